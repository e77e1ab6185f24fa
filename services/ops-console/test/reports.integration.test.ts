// The reports over the real broker: events in on the topics, figures out over HTTP as JSON, as a
// CSV download and as report cards; a duplicate counted once, an erasure on cc.erasure.v1 making
// the console forget the customer's conversation with the figures kept, a second console
// rebuilding the same figures from the beginning of the topics without the erased ids. Other
// tests write to the same topics: only the rows of this run's own queue and agent are read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { Channel, ConversationEvent, SlaEvent, SlaEventKind } from '#libs/proto';
import { publishErasure, uniqueId, waitFor } from '#libs/testing';
import { testErasureKey } from '#libs/testing/auth';
import { signIn, startHarness, type Harness, type SignedIn } from './harness';
import { holdsText } from './held-text';

let h: Harness;
let replayed: Harness | undefined;
let supervisor: SignedIn;
let ops: SignedIn;
const suffix = uniqueId('r').slice(2).toLowerCase();
const queue = `tier1/rep${suffix}/sms`;
const agent = `@rep-${suffix}`;
// Three hours back, so nothing live of other tests shares these rows' interval and names.
const hour = Math.floor(Date.now() / 3600_000) * 3600_000 - 3 * 3600_000;
const from = new Date(hour).toISOString();
const to = new Date(hour + 3600_000).toISOString();

// c1 is the customer's, erased once its figures are in.
const c1 = uniqueId('rc');
const c2 = uniqueId('rc');
const customerId = uniqueId('rcust');
const withErasures = { ERASURE_KEY: testErasureKey() };

type Step = NonNullable<ConversationEvent['step']>;
const event = (conversationId: string, at: number, step: Step) =>
  ConversationEvent.fromPartial({
    // As routing names its events: the conversation id in the event id.
    eventId: `routing:${conversationId}:${uniqueId('ev')}`,
    conversationId,
    customerId: conversationId === c1 ? customerId : '',
    occurredAt: new Date(at),
    channel: Channel.CHANNEL_SMS,
    step,
  });

function scenario(): ConversationEvent[] {
  const q = { queue, skill: 'general', tier: 1, priority: 0, position: 1, estimatedWaitMs: 60_000, risk: 0, complexity: 0 };
  return [
    event(c1, hour + 60_000, { $case: 'queued', queued: q }),
    event(c1, hour + 90_000, { $case: 'assigned', assigned: { agentId: agent, tier: 1, waitedMs: 30_000 } }),
    event(c1, hour + 390_000, { $case: 'resolved', resolved: { agentId: agent, disposition: 'refund sent' } }),
    event(c1, hour + 450_000, { $case: 'surveyAnswered', surveyAnswered: { question: 'q', score: 4, comment: '', agentId: agent, queue } }),
    event(c2, hour + 120_000, { $case: 'queued', queued: q }),
    event(c2, hour + 165_000, { $case: 'abandoned', abandoned: { waitedMs: 45_000 } }),
  ];
}

const get = (base: string, path: string, session?: SignedIn) => fetch(`${base}${path}`, { headers: session ? { cookie: session.cookie } : {} });
const rowsOf = async (base: string, session: SignedIn, by: string, value: string) => {
  const body = (await (await get(base, `/api/reports?interval=hour&by=${by}&from=${from}&to=${to}`, session)).json()) as {
    rows: { value: string; figures: Record<string, unknown> }[];
  };
  return body.rows.filter((r) => r.value === value);
};

beforeAll(async () => {
  h = await startHarness(withErasures);
  supervisor = (await signIn(h.console.url, h.ids.supervisor)).session!;
  ops = (await signIn(h.console.url, h.ids.ops)).session!;
  const events = scenario();
  for (const e of events) await h.kafka.producer.publish(topics.conversationEvents, e.conversationId, e, { id: e.eventId, time: e.occurredAt });
  // The same record again (a producer's retry, a dead letter put back): same ce_id.
  await h.kafka.producer.publish(topics.conversationEvents, events[0]!.conversationId, events[0]!, { id: events[0]!.eventId, time: events[0]!.occurredAt });
  const met = SlaEvent.fromPartial({
    eventId: uniqueId('sla'),
    conversationId: events[0]!.conversationId,
    occurredAt: new Date(hour + 90_000),
    channel: Channel.CHANNEL_SMS,
    queue,
    kind: SlaEventKind.SLA_EVENT_KIND_MET,
    targetMs: 900_000,
    elapsedMs: 30_000,
  });
  await h.kafka.producer.publish(topics.sla, met.conversationId, met, { id: met.eventId });
}, 90_000);
afterAll(async () => {
  await replayed?.stop();
  await h?.stop();
});

const EXPECTED = {
  offered: 2,
  answered: 1,
  abandoned: 1,
  abandonRate: 0.5,
  averageTimeToAbandonMs: 45_000,
  serviceLevel: 1,
  averageSpeedOfAnswerMs: 30_000,
  resolved: 1,
  averageHandleMs: 300_000,
  firstContactResolution: 1,
  surveys: 1,
  averageSurveyScore: 4,
};

describe('reports', () => {
  it('folds the events into the queue and agent rows, counting the duplicate once', { timeout: 60_000 }, async () => {
    const [row] = await waitFor(
      async () => {
        const rows = await rowsOf(h.console.url, supervisor, 'queue', queue);
        return rows[0]?.figures.surveys === 1 && rows[0].figures.serviceLevel !== null && rows;
      },
      30_000,
      'the report row of the queue',
    );
    expect(row!.figures).toMatchObject(EXPECTED);
    const [agentRow] = await rowsOf(h.console.url, ops, 'agent', agent);
    expect(agentRow!.figures).toMatchObject({ offered: 0, answered: 1, resolved: 1, averageHandleMs: 300_000, averageSurveyScore: 4, serviceLevel: null });
  });

  it('exports CSV as a download with formula-looking cells made harmless', { timeout: 30_000 }, async () => {
    const res = await get(h.console.url, `/api/reports.csv?interval=hour&by=agent&from=${from}&to=${to}`, supervisor);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="report-agent-hour-\d{4}-\d{2}-\d{2}\.csv"$/);
    const lines = (await res.text()).split('\r\n');
    expect(lines[0]).toMatch(/^interval,start,dimension,value,offered,answered,abandoned,/);
    const mine = lines.filter((l) => l.includes(`rep-${suffix}`));
    expect(mine).toHaveLength(1);
    expect(mine[0]).toContain(`,agent,'${agent},0,1,0,`);
  });

  it("gives a report card of the agent's and the queue's period", { timeout: 30_000 }, async () => {
    const res = await get(h.console.url, `/api/reports/card?interval=hour&by=agent&value=${encodeURIComponent(agent)}&from=${from}&to=${to}`, ops);
    expect(res.status).toBe(200);
    const card = (await res.json()) as { totals: Record<string, unknown>; series: unknown[] };
    expect(card.totals).toMatchObject({ answered: 1, resolved: 1, firstContactResolution: 1 });
    expect(card.series).toHaveLength(1);
    const queueCard = (await (
      await get(h.console.url, `/api/reports/card?interval=15m&by=queue&value=${encodeURIComponent(queue)}&from=${from}&to=${to}`, ops)
    ).json()) as {
      totals: Record<string, unknown>;
      series: unknown[];
    };
    expect(queueCard.totals).toMatchObject(EXPECTED);
    expect(queueCard.series.length).toBe(1);
  });

  it('refuses bad queries by name, and anyone not signed in', { timeout: 30_000 }, async () => {
    const bad = async (query: string, pattern: RegExp) => {
      const res = await get(h.console.url, `/api/reports?${query}`, supervisor);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(pattern);
    };
    await bad('interval=week', /interval must be one of 15m, hour, day/);
    await bad('by=customer', /by must be one of queue, channel, agent/);
    await bad('from=yesterday', /from must be a date or time in ISO 8601/);
    await bad(`from=${to}&to=${from}`, /from must be before to/);
    await bad('interval=15m&from=2026-01-01&to=2026-03-01', /covers at most 7 days/);
    const card = await get(h.console.url, `/api/reports/card?by=agent&value=${encodeURIComponent('<script>')}`, supervisor);
    expect(card.status).toBe(400);
    expect((await get(h.console.url, '/api/reports')).status).toBe(401);
    expect((await get(h.console.url, '/api/reports.csv')).status).toBe(401);
  });

  it('forgets the conversation and the customer an erasure names, keeping the figures', { timeout: 60_000 }, async () => {
    const before = [await rowsOf(h.console.url, supervisor, 'queue', queue), await rowsOf(h.console.url, supervisor, 'agent', agent)];
    expect(holdsText(h.console.reports, c1) && holdsText(h.console.reports, customerId)).toBe(true);
    // The live feed remembers the events too, for a stream opened on the conversation.
    await waitFor(() => h.console.feed.backlog({ topics: [], conversationId: c1 }).length > 0, 30_000, 'the live feed to hold the conversation');
    // As customer-record publishes an erasure: the customer and each of their conversations.
    await publishErasure(h.kafka.producer, 'customer', customerId);
    await publishErasure(h.kafka.producer, 'conversation', c1);
    await waitFor(() => !holdsText(h.console.reports, c1) && !holdsText(h.console.reports, customerId), 30_000, 'the erased ids gone from the reports');
    await waitFor(() => h.console.feed.backlog({ topics: [], conversationId: c1 }).length === 0, 30_000, 'the erased conversation gone from the live feed');
    expect(h.console.feed.backlog({ topics: [] }).some((e) => JSON.stringify(e.record).includes(c1))).toBe(false);
    expect(h.console.feed.backlog({ topics: [], conversationId: c2 }).length).toBeGreaterThan(0);
    // A timeline reads the topics, which still hold the erased conversation: it is refused.
    const timeline = await get(h.console.url, `/api/conversations/${c1}/timeline`, supervisor);
    expect(timeline.status).toBe(410);
    expect(((await timeline.json()) as { error: string }).error).toBe(`conversation ${c1} was erased on its customer's request`);
    expect((await get(h.console.url, `/api/conversations/${c2}/timeline`, supervisor)).status).toBe(200);
    expect([await rowsOf(h.console.url, supervisor, 'queue', queue), await rowsOf(h.console.url, supervisor, 'agent', agent)]).toEqual(before);
    expect(holdsText(h.console.reports, c2)).toBe(true);
  });

  it('rebuilds the same figures in a console started afterwards, from the beginning of the topics, without the erased ids', { timeout: 120_000 }, async () => {
    replayed = await startHarness(withErasures);
    const session = (await signIn(replayed.console.url, replayed.ids.supervisor)).session!;
    const [queueRow] = await waitFor(
      async () => {
        const rows = await rowsOf(replayed!.console.url, session, 'queue', queue);
        return rows[0]?.figures.surveys === 1 && rows[0].figures.serviceLevel !== null && rows;
      },
      60_000,
      'the rebuilt report row',
    );
    expect(queueRow).toEqual((await rowsOf(h.console.url, supervisor, 'queue', queue))[0]);
    expect(await rowsOf(replayed.console.url, session, 'agent', agent)).toEqual(await rowsOf(h.console.url, supervisor, 'agent', agent));
    expect(holdsText(replayed.console.reports, c1) || holdsText(replayed.console.reports, customerId)).toBe(false);
    expect(holdsText(replayed.console.reports, c2)).toBe(true);
  });
});
