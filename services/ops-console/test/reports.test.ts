import { describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { PromiseProgress, PromiseStep, SlaEventKind } from '#libs/proto';
import { csvCell } from '../src/csv';
import { reportCsv } from '../src/report-figures';
import { withinRowLimit } from '../src/report-routes';
import { ReportFold } from '../src/reports';
import { answeredConversation, assigned, conv, dayOf, fold, MIN, queued, resolved, sla, T0, type Step } from './report-events';

describe('report fold', () => {
  it('counts offered, answered, handle time, service level and survey score per queue, channel and agent', () => {
    const records = [
      ...answeredConversation('c1', T0, 'ada', 20_000, 5 * MIN, 4),
      ...answeredConversation('c2', T0 + 2 * MIN, 'ada', 40_000, 3 * MIN, 2),
      ...answeredConversation('c3', T0 + 3 * MIN, 'bob', 60_000, 12 * MIN),
      sla('c1', T0 + 20_000, SlaEventKind.SLA_EVENT_KIND_MET),
      sla('c2', T0 + 2 * MIN + 40_000, SlaEventKind.SLA_EVENT_KIND_MET),
      sla('c3', T0 + 3 * MIN + 60_000, SlaEventKind.SLA_EVENT_KIND_BREACH),
    ];
    const f = fold(records);
    const [queue] = f.report('hour', 'queue', T0, T0 + 3600_000);
    expect(queue).toMatchObject({ start: T0, value: 'tier1/general/sms' });
    expect(queue!.figures).toMatchObject({
      offered: 3,
      answered: 3,
      abandoned: 0,
      averageSpeedOfAnswerMs: 40_000,
      resolved: 3,
      averageHandleMs: Math.round((20 * MIN) / 3),
      firstContactResolution: 1,
      surveys: 2,
      averageSurveyScore: 3,
    });
    expect(queue!.figures.serviceLevel).toBeCloseTo(2 / 3);
    expect(f.report('hour', 'channel', T0, T0 + 3600_000).map((r) => [r.value, r.figures.offered])).toEqual([['sms', 3]]);
    const agents = f.report('hour', 'agent', T0, T0 + 3600_000);
    expect(agents.map((r) => [r.value, r.figures.answered, r.figures.averageSurveyScore, r.figures.serviceLevel])).toEqual([
      ['ada', 2, 3, null],
      ['bob', 1, null, null],
    ]);
    // 15-minute rows: c1..c3 were all offered in the first quarter; c3 resolved in the second.
    const quarters = f.report('15m', 'queue', T0, T0 + 3600_000);
    expect(quarters.map((r) => [r.start - T0, r.figures.offered, r.figures.resolved])).toEqual([
      [0, 3, 2],
      [15 * MIN, 0, 1],
    ]);
  });

  it('counts an abandoned contact with its time to abandon, and never as answered', () => {
    const f = fold([
      conv('a1', T0, queued()),
      conv('a1', T0 + 90_000, { $case: 'abandoned', abandoned: { waitedMs: 90_000 } }),
      conv('a2', T0, queued()),
      conv('a2', T0 + 30_000, { $case: 'abandoned', abandoned: { waitedMs: 30_000 } }),
      ...answeredConversation('a3', T0, 'ada', 10_000, MIN),
    ]);
    const [row] = f.report('day', 'queue', dayOf(T0), dayOf(T0) + 86_400_000);
    expect(row!.figures).toMatchObject({ offered: 3, answered: 1, abandoned: 2, averageTimeToAbandonMs: 60_000 });
    expect(row!.figures.abandonRate).toBeCloseTo(2 / 3);
  });

  it('puts events either side of midnight in their own day, hour and quarter', () => {
    const midnight = Date.UTC(2026, 11, 1);
    const f = fold([
      ...answeredConversation('m1', midnight - 10 * MIN, 'ada', MIN, 20 * MIN),
      ...answeredConversation('m2', midnight + 5 * MIN, 'ada', MIN, MIN),
    ]);
    const days = f.report('day', 'agent', midnight - 86_400_000, midnight + 86_400_000);
    expect(days.map((r) => [r.start, r.figures.answered, r.figures.resolved])).toEqual([
      [midnight - 86_400_000, 1, 0],
      [midnight, 1, 2],
    ]);
    const hours = f.report('hour', 'queue', midnight - 3600_000, midnight + 3600_000);
    expect(hours.map((r) => [r.start, r.figures.offered])).toEqual([
      [midnight - 3600_000, 1],
      [midnight, 1],
    ]);
    // m1's handle time (20 min, answered before midnight) counts where it was resolved.
    expect(f.card('day', 'agent', 'ada', midnight, midnight + 86_400_000).totals.averageHandleMs).toBe(Math.round((20 * MIN + MIN) / 2));
  });

  it('counts transfers and escalations, and only resolutions by the first agent without a repeat as first-contact', () => {
    const cust = { customerId: 'cust-1' };
    const records = [
      ...answeredConversation('f1', T0, 'ada', 1000, MIN, undefined, cust),
      // f2 was transferred before it was resolved: not first-contact.
      conv('f2', T0, queued()),
      conv('f2', T0 + 1000, assigned('ada', 1000)),
      conv('f2', T0 + 2000, { $case: 'transferred', transferred: { fromAgentId: 'ada', toAgentId: 'bob', toQueue: '', note: '' } }),
      conv('f2', T0 + 3000, assigned('bob', 0)),
      conv('f2', T0 + 4000, resolved('bob')),
      // The customer of f1 comes back on the same subject the next day: f1 was not resolved on first contact.
      conv(
        'f3',
        T0 + 86_400_000,
        { $case: 'escalated', escalated: { fromAgentId: '', note: '', queue: 'tier2/general/sms', skill: 'general', automatic: true } },
        { ...cust, reason: { code: 'rule.repeat_contact', text: '', rule: 'repeat-contact', targetStep: 0, eligibleAgents: 0, whyChosen: '' } },
      ),
      conv('f3', T0 + 86_400_000, queued('tier2/general/sms'), {
        ...cust,
        reason: { code: 'rule.repeat_contact', text: '', rule: 'repeat-contact', targetStep: 0, eligibleAgents: 0, whyChosen: '' },
      }),
    ];
    const f = fold(records);
    const [day] = f.report('day', 'queue', dayOf(T0), dayOf(T0) + 86_400_000);
    expect(day!.figures).toMatchObject({ offered: 2, resolved: 2, transfers: 1, firstContactResolution: 0 });
    expect(f.card('day', 'agent', 'ada', dayOf(T0), dayOf(T0) + 86_400_000).totals).toMatchObject({ transfers: 1, answered: 2, resolved: 1 });
    const next = f.report('day', 'queue', dayOf(T0) + 86_400_000, dayOf(T0) + 2 * 86_400_000);
    expect(next.map((r) => [r.value, r.figures.offered, r.figures.escalations])).toEqual([['tier2/general/sms', 1, 1]]);
    // Without the repeat, f1 is a first-contact resolution.
    expect(fold(records.slice(0, -2)).report('day', 'queue', dayOf(T0), dayOf(T0) + 86_400_000)[0]!.figures.firstContactResolution).toBe(0.5);
    // The repeat read before the resolution it undoes (another partition read first) gives the same figure.
    expect(fold([...records.slice(-2), ...records.slice(0, -2)]).report('day', 'queue', dayOf(T0), dayOf(T0) + 86_400_000)).toEqual(
      f.report('day', 'queue', dayOf(T0), dayOf(T0) + 86_400_000),
    );
  });

  it('counts an event id once, and a replay from the beginning gives the same figures', () => {
    const records = [
      ...answeredConversation('r1', T0, 'ada', 5000, 2 * MIN, 5),
      conv('r2', T0, queued()),
      conv('r2', T0 + 5000, { $case: 'abandoned', abandoned: { waitedMs: 5000 } }),
      sla('r1', T0 + 5000, SlaEventKind.SLA_EVENT_KIND_MET),
    ];
    const once = fold(records);
    const twice = new ReportFold();
    for (const r of records) {
      expect(twice.add(r)).toBe(true);
      expect(twice.add(r)).toBe(false);
    }
    // A replayed record (a dead letter put back) carries the same ce_id later on.
    for (const r of records) twice.add(r);
    for (const interval of ['15m', 'hour', 'day'] as const)
      for (const dim of ['queue', 'channel', 'agent'] as const)
        expect(twice.report(interval, dim, 0, Infinity)).toEqual(once.report(interval, dim, 0, Infinity));
    expect(fold(records).report('hour', 'queue', 0, Infinity)).toEqual(once.report('hour', 'queue', 0, Infinity));
    expect(once.report('hour', 'queue', 0, Infinity)[0]!.figures).toMatchObject({ offered: 2, answered: 1, abandoned: 1, surveys: 1, averageSurveyScore: 5 });
  });

  it('opens a new contact when a resolved conversation is reopened, and ignores what is not a report event', () => {
    const f = fold([
      ...answeredConversation('o1', T0, 'ada', 1000, MIN),
      ...answeredConversation('o1', T0 + 10 * MIN, 'bob', 2000, MIN),
      { topic: topics.agentState.name, id: 'x1', event: { agentId: 'ada' } },
      { topic: topics.conversationEvents.name, id: 'x2', event: { conversationId: 'o9', occurredAt: 'not a time', queued: {} } },
    ]);
    expect(f.report('hour', 'queue', 0, Infinity)[0]!.figures).toMatchObject({ offered: 2, answered: 2, resolved: 2 });
  });

  it('counts conversations the company wrote first apart from offered ones, per channel and person', () => {
    const replied = (agentId: string): Step => ({
      $case: 'replied',
      replied: { agentId, outboundMessageId: 'm', text: 'Our service is down', attachments: [] },
    });
    const f = fold([
      conv('n1', T0, replied('sue'), { reason: { code: 'notice.sent', text: '' } as never }),
      conv('n2', T0, replied('ana'), { reason: { code: 'outreach.started', text: '' } as never }),
      conv('n3', T0, replied('api:shop'), { reason: { code: 'api.started', text: '' } as never }),
      // An ordinary reply is no start.
      conv('n4', T0, replied('ana'), { reason: { code: 'agent.replied', text: '' } as never }),
    ]);
    expect(f.report('hour', 'channel', 0, Infinity).map((r) => [r.value, r.figures.companyStarted, r.figures.offered])).toEqual([['sms', 3, 0]]);
    expect(
      f
        .report('hour', 'agent', 0, Infinity)
        .map((r) => [r.value, r.figures.companyStarted])
        .sort(),
    ).toEqual([
      ['ana', 1],
      ['sue', 1],
    ]);
  });
});

describe('report size', () => {
  it('refuses an answer of more rows than the limit, saying how to ask for fewer', () => {
    const f = fold([...answeredConversation('l1', T0, 'ada', 1000, MIN), ...answeredConversation('l2', T0, 'bob', 1000, MIN)]);
    const rows = f.report('hour', 'agent', 0, Infinity);
    expect(withinRowLimit(rows, 2)).toHaveLength(2);
    expect(() => withinRowLimit(rows, 1)).toThrow(/the report has 2 rows, more than 1: choose a shorter period or a longer interval/);
  });
});

describe('report CSV', () => {
  it('prefixes cells a spreadsheet would run as formulas, and quotes separators', () => {
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('tier1/general/sms')).toBe('tier1/general/sms');
    expect(csvCell('a,b')).toBe('"a,b"');
    const f = fold(answeredConversation('v1', T0, '=cmd|calc', 1000, MIN));
    const csv = reportCsv('hour', f.report('hour', 'agent', 0, Infinity));
    const [header, line] = csv.trim().split('\r\n');
    expect(header).toMatch(/^interval,start,dimension,value,offered,answered,/);
    expect(line).toMatch(/^hour,2026-11-30T09:00:00\.000Z,agent,'=cmd\|calc,0,1,/);
  });
});

describe('promises kept and broken', () => {
  const promise = (progress: PromiseProgress, dueAt: number, queue = 'tier2/repairs/sms'): Step => ({
    $case: 'promise',
    promise: PromiseStep.fromPartial({ progress, milestone: 'part ordered', dueAt: new Date(dueAt), ownerAgentId: 'ann', version: 1, queue }),
  });

  it('counts a promise kept by its date, one that slipped as broken, and one done after it slipped once', () => {
    const due = T0 + 60 * MIN;
    const records = [
      conv('p1', T0, queued('tier2/repairs/sms')),
      conv('p1', T0 + MIN, promise(PromiseProgress.PROMISE_PROGRESS_SET, due)),
      conv('p1', T0 + 2 * MIN, promise(PromiseProgress.PROMISE_PROGRESS_KEPT, due)),
      conv('p2', T0, queued('tier2/repairs/sms')),
      conv('p2', T0 + MIN, promise(PromiseProgress.PROMISE_PROGRESS_WARNED, due)),
      conv('p2', due, promise(PromiseProgress.PROMISE_PROGRESS_SLIPPED, due)),
      conv('p2', due + MIN, promise(PromiseProgress.PROMISE_PROGRESS_KEPT, due)),
      conv('p2', due + 2 * MIN, promise(PromiseProgress.PROMISE_PROGRESS_ASKED, due)),
    ];
    const f = fold([...records, records[2]!]);
    const [day] = f.report('day', 'queue', dayOf(T0), dayOf(T0) + 86_400_000);
    expect(day!.figures).toMatchObject({ promisesKept: 1, promisesBroken: 1, promisesKeptShare: 0.5 });
    expect(day!.value).toBe('tier2/repairs/sms');
    const [ann] = f.report('day', 'agent', dayOf(T0), dayOf(T0) + 86_400_000);
    expect(ann).toMatchObject({ value: 'ann', figures: { promisesKept: 1, promisesBroken: 1 } });
    expect(fold(records.slice(0, 3)).report('day', 'queue', 0, Infinity)[0]!.figures.promisesKeptShare).toBe(1);
  });
});
