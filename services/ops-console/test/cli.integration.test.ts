// The ops command line against the real broker, run as a user runs it.
import { spawn, spawnSync } from 'node:child_process';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { ConversationEvent, SlaEvent } from '#libs/proto';
import { connectKafka, type ServiceKafka } from '#libs/service';
import { KAFKA_BROKERS, testContext, uniqueId, waitFor } from '#libs/testing';

const cli = ['--import', 'tsx', 'services/ops-console/src/cli.ts'];
const ctx = testContext('ops-cli-test');
let kafka: ServiceKafka;

beforeAll(async () => {
  kafka = await connectKafka(ctx, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
});
afterAll(() => ctx.stop());

describe('npm run ops', () => {
  it('tails a topic from the beginning, one decoded JSON line per event of the chosen conversation', async () => {
    const conversationId = uniqueId('conv');
    const event = ConversationEvent.fromPartial({
      eventId: uniqueId('ev'),
      conversationId,
      reason: { code: 'target.skilled_tier1', text: 'longest idle agent with the billing skill', eligibleAgents: 3 },
      step: { $case: 'assigned', assigned: { agentId: 'agent-7', waitedMs: 4200 } },
    });
    await kafka.producer.publish(topics.conversationEvents, uniqueId('other'), { ...event, conversationId: uniqueId('other') });
    const { id } = await kafka.producer.publish(topics.conversationEvents, conversationId, event);

    const child = spawn(process.execPath, [...cli, 'tail', 'cc.conversation.events.v1', '--from-beginning', '--conversation', conversationId], {
      env: { ...process.env, KAFKA_BROKERS: KAFKA_BROKERS.join(',') },
    });
    try {
      const lines = readline.createInterface({ input: child.stdout });
      const first = await new Promise<string>((resolve, reject) => {
        lines.once('line', resolve);
        child.once('exit', (code) => reject(new Error(`tail exited with ${code}`)));
        setTimeout(() => reject(new Error('no line within 45 s')), 45_000);
      });
      const record = JSON.parse(first);
      expect(record).toMatchObject({ topic: 'cc.conversation.events.v1', key: conversationId, id, type: 'contactcenter.v1.ConversationEvent' });
      expect(record.event).toMatchObject({
        conversationId,
        assigned: { agentId: 'agent-7', waitedMs: 4200 },
        reason: { code: 'target.skilled_tier1', eligibleAgents: 3 },
      });
    } finally {
      child.kill('SIGINT');
    }
  });

  it('refuses an unknown topic with the list of known ones', () => {
    const run = spawnSync(process.execPath, [...cli, 'tail', 'cc.nope.v1'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('unknown topic cc.nope.v1');
    expect(run.stderr).toContain('cc.contact.inbound.v1');
  });

  it('prints consumer lag per group and topic', async () => {
    const groupId = uniqueId('lag-group');
    const conversationId = uniqueId('conv');
    let seen = false;
    await kafka
      .consumer({ groupId })
      .on(topics.sla, (e) => {
        if (e.value.conversationId === conversationId) seen = true;
      })
      .start();
    await kafka.producer.publish(topics.sla, conversationId, { ...SlaEvent.fromPartial({ conversationId }) });
    await waitFor(() => seen, 15_000, 'the SLA event');
    await ctx.stop(); // leaving the group commits its offsets
    const run = spawnSync(process.execPath, [...cli, 'lag'], { encoding: 'utf8', env: { ...process.env, KAFKA_BROKERS: KAFKA_BROKERS.join(',') } });
    expect(run.status, run.stderr).toBe(0);
    const rows = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.every((r) => typeof r.lag === 'number' && r.lag >= 0)).toBe(true);
    const ours = rows.find((r) => r.group === groupId);
    // Other tests may write to cc.sla.v1 after the group left, so its lag is only known to be small.
    expect(ours).toMatchObject({ topic: 'cc.sla.v1' });
    expect(ours.lag).toBeLessThan(50);
  });
});
