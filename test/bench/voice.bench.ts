// npm run bench:voice — accept → connected: the time from an agent's AcceptOffer to the agent's
// leg created in the call's conference at the Twilio stand-in (sms-voice dials them in through
// the real twilio client after routing's CONNECT_CALL on Kafka). Half the agents answer on the
// softphone (client:<id>), half on their own phone (the roster's number); the floor is the same
// participant create sent straight to the stand-in with the twilio client, in the same run.
//   BENCH_CALLS (default 300), BENCH_AGENTS (default 20, half on a phone), BENCH_CONCURRENT (default 10)
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { credentials, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { MongoClient } from 'mongodb';
import { Channel, Presence, RoutingServiceClient, Tier, type WatchAssignmentsResponse } from '#libs/proto';
import { StaffRoster } from '#libs/staff';
import { dropDatabase, MONGODB_URI, testContext, testMetadata, uniqueId } from '#libs/testing';
import { signedWebhook, startTestPhone, startTestRouting } from '../../services/agent-desk/test/stack';
import { TwilioStandIn } from '../../scripts/outbox/twilio-api';
import { callConversationId } from '../../services/sms-voice/src/calls';
import { createTwilioClient } from '../../services/sms-voice/src/twilio-client';
import { percentile, sleep } from './stats';

const CALLS = Number(process.env.BENCH_CALLS ?? 300);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 20);
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 10);
const AUTH_TOKEN = randomBytes(16).toString('hex');
const ACCOUNT_SID = `AC${randomBytes(16).toString('hex')}`;
const LINE = `+1628555${String(1000 + Math.floor(Math.random() * 8999))}`;
const skill = `voice-bench-${randomBytes(4).toString('hex')}`;
// Each run's callers are new to routing: +1 415 2xx-xxxx onwards, from a random start.
const CALLER_BASE = Math.floor(Math.random() * 6_000) * 1000;

type Answer = 'softphone' | 'phone';
interface Agent {
  id: string;
  answer: Answer;
  md: Metadata;
}

function unary<Req>(client: RoutingServiceClient, method: (req: Req, md: Metadata, cb: (err: ServiceError | null) => void) => unknown, req: Req, md: Metadata) {
  return new Promise<void>((resolve, reject) => method.call(client, req, md, (err) => (err ? reject(err) : resolve())));
}

/** A signed inbound call webhook, as Twilio sends it. */
async function ring(smsVoice: string, callSid: string, caller: number): Promise<void> {
  // A new caller each time: a returning one would wait for their last agent first (routing's policy).
  const status = await signedWebhook(`${smsVoice}/twilio/voice`, AUTH_TOKEN, { CallSid: callSid, From: `+1415${String(2_000_000 + caller)}`, To: LINE });
  if (status !== 200) throw new Error(`the call webhook was answered ${status}`);
}

async function main(): Promise<void> {
  const database = uniqueId('voice_bench').replace(/-/g, '_');
  const [routingCtx, smsVoiceCtx] = ['routing', 'sms-voice'].map((n) => testContext(`voice-bench-${n}`)) as [
    ReturnType<typeof testContext>,
    ReturnType<typeof testContext>,
  ];
  const standIn = new TwilioStandIn({ conversationOfCall: callConversationId, maxItems: 10_000 });
  const rule = { id: 'voice-bench', when: { pattern: LINE.replace('+', '\\+'), channels: ['voice'] }, then: { skill } };
  const routing = await startTestRouting(routingCtx, database, 'voice-bench', rule, undefined, 'error');
  const account = { authToken: AUTH_TOKEN, accountSid: ACCOUNT_SID };
  const { url: smsVoice, apiBase: twilioBase } = await startTestPhone(smsVoiceCtx, database, 'voice-bench', standIn, account, {}, 'error');

  // The roster sms-voice reads: every other agent answers on their own phone.
  const mongo = await new MongoClient(MONGODB_URI).connect();
  const roster = new StaffRoster(mongo.db(database));
  const client = new RoutingServiceClient(`127.0.0.1:${routing.grpcPort}`, credentials.createInsecure());
  const supervisor = await testMetadata({ id: 'bench-supervisor', role: 'supervisor' }, 'routing');
  const agents: Agent[] = [];
  for (let a = 0; a < AGENTS; a++) {
    const id = `${skill}-agent-${a}`;
    const answer: Answer = a % 2 ? 'phone' : 'softphone';
    await roster.upsert(
      {
        id,
        name: `Agent ${a}`,
        role: 'agent',
        tier: 1,
        skills: { [skill]: 3 },
        languages: ['en'],
        ...(answer === 'phone' ? { phone: `+1415666${String(1000 + a)}`, answerCallsOn: 'phone' } : {}),
      },
      'a long bench password',
    );
    const capacity = [{ channel: Channel.CHANNEL_VOICE, capacity: 1, active: 0 }];
    await unary(
      client,
      client.registerAgent,
      { agentId: id, name: `Agent ${a}`, tier: Tier.TIER_FRONT_OFFICE, skills: [{ name: skill, level: 3 }], languages: ['en'], capacity, totalCapacity: 1 },
      supervisor,
    );
    agents.push({ id, answer, md: await testMetadata({ id, role: 'agent' }, 'routing') });
  }

  // Each offer is accepted at once; the clock starts as the accept is sent.
  const acceptedAt = new Map<string, { at: number; agent: Agent }>();
  /** Accept sent → routing's answer (the assignment committed): the part before Kafka carries CONNECT_CALL. */
  const acknowledged: number[] = [];
  const streams = agents.map((agent) => {
    const stream = client.watchAssignments({}, agent.md);
    stream.on('data', (u: WatchAssignmentsResponse) => {
      if (u.update?.$case !== 'offer') return;
      const conversationId = u.update.offer.conversationId;
      if (acceptedAt.has(conversationId)) return;
      const at = Date.now();
      acceptedAt.set(conversationId, { at, agent });
      unary(client, client.acceptOffer, { conversationId }, agent.md).then(
        () => acknowledged.push(Date.now() - at),
        (err: unknown) => console.error(`accept failed: ${String(err)}`),
      );
    });
    stream.on('error', () => undefined);
    return stream;
  });
  await sleep(500);
  for (const agent of agents) await unary(client, client.setPresence, { agentId: agent.id, presence: Presence.PRESENCE_AVAILABLE }, agent.md);

  const connect: Record<Answer, number[]> = { softphone: [], phone: [] };
  const failures = { notOffered: 0, notBridged: 0, notResolved: 0 };
  /** One call: rung, offered, accepted, the agent's leg created; then resolved so the agent is free again. */
  const oneCall = async (n: number): Promise<void> => {
    const callSid = `CA${randomBytes(16).toString('hex')}`;
    const conversationId = callConversationId(callSid)!;
    await ring(smsVoice, callSid, CALLER_BASE + n);
    const deadline = Date.now() + 60_000;
    let leg: { created: Date } | undefined;
    while (!leg && Date.now() < deadline) {
      await sleep(2);
      leg = acceptedAt.has(conversationId) ? standIn.participantsOf(conversationId).find((p) => p.label === 'agent') : undefined;
    }
    const accepted = acceptedAt.get(conversationId);
    if (!leg || !accepted) {
      failures[accepted ? 'notBridged' : 'notOffered']++;
      return;
    }
    connect[accepted.agent.answer].push(leg.created.getTime() - accepted.at);
    await unary(client, client.resolve, { conversationId, disposition: 'bench' }, accepted.agent.md).catch((err: unknown) => {
      failures.notResolved++;
      console.error(`resolve failed: ${String(err)}`);
    });
  };

  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENT }, async () => {
      for (let n = next++; n < CALLS; n = next++) await oneCall(n);
    }),
  );
  const seconds = (Date.now() - started) / 1000;

  // The floor: the same participant create, straight from the twilio client to the stand-in.
  const direct = createTwilioClient({ TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_API_BASE_URL: twilioBase });
  const floor: number[] = [];
  for (let i = 0; i < Math.min(CALLS, 200); i++) {
    const t0 = performance.now();
    await direct.conferences(`floor-${i}`).participants.create({ from: LINE, to: 'client:floor', label: 'agent' });
    floor.push(performance.now() - t0);
  }

  const row = (name: string, values: number[]) => ({
    path: name,
    calls: values.length,
    p50_ms: percentile(values, 50),
    p99_ms: percentile(values, 99),
    max_ms: percentile(values, 100),
  });
  console.log(
    `machine: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB; routing, sms-voice, the stand-in and this process in one process, Kafka and FerretDB on the same machine`,
  );
  console.log(
    `${CALLS} calls, ${CONCURRENT} at a time, ${AGENTS} agents: ${(CALLS / seconds).toFixed(1)} calls connected per second; not offered within 60 s ${failures.notOffered}, not bridged ${failures.notBridged}, not resolved ${failures.notResolved}`,
  );
  console.table([
    row('accept → routing answered (assignment committed)', acknowledged),
    row('accept → agent leg created, softphone', connect.softphone),
    row('accept → agent leg created, own phone', connect.phone),
    row('accept → agent leg created, all', [...connect.softphone, ...connect.phone]),
    row('floor: participant create, twilio client → stand-in', floor),
  ]);
  console.log('voice SLA: answered within 30 000 ms; the connect part above is what accepting adds.');
  for (const s of streams) s.cancel();
  client.close();
  await smsVoiceCtx.stop();
  await routingCtx.stop();
  await mongo.close();
  await dropDatabase(database);
  process.exit(failures.notBridged + failures.notResolved ? 1 : 0);
}

void main();
