// The report fold and erasures: an erased customer's conversation and customer ids leave the
// fold while every figure stays, their events still arriving count as before, and a rebuild that
// knows the erasure first gives the same figures without ever holding the ids.
import { describe, expect, it } from 'vitest';
import { ErasureSet, subjectKey, type SubjectKind } from '#libs/erasure';
import { SlaEventKind } from '#libs/proto';
import { ReportFold } from '../src/reports';
import { holdsText } from './held-text';
import { answeredConversation, assigned, conv, fold, MIN, queued, resolved, sla, T0, type Rec, type Step } from './report-events';

const KEY = 'report-erasure-test-key-0123456789abcdef';
const DAY = 86_400_000;
const ERASED_AT = T0 + 3 * DAY;
const erasedCustomer = 'cust-erased-5d1c9e';
const keptCustomer = 'cust-kept-8a2f41';
const [e1, e2, e3, k1] = ['conv-erased-one-71b3', 'conv-erased-two-94ce', 'conv-erased-three-2d07', 'conv-kept-one-c6a8'];
const erasedIds = [erasedCustomer, e1, e2, e3];

const repeatReason = { code: 'rule.repeat_contact', text: '', rule: 'repeat-contact', targetStep: 0, eligibleAgents: 0, whyChosen: '' };
const ofErased = { customerId: erasedCustomer };

/** The erased customer's conversations beside another customer's, each part in the order its partition gives it. */
function scenario() {
  const first = [
    // e1 resolved on first contact, until e2 (the customer back the next day on the same subject) takes it back.
    ...answeredConversation(e1, T0, 'ada', 20_000, 5 * MIN, 4, ofErased),
    sla(e1, T0 + 20_000, SlaEventKind.SLA_EVENT_KIND_MET),
    ...answeredConversation(k1, T0 + MIN, 'bob', 30_000, 4 * MIN, 5, { customerId: keptCustomer }),
    // e3's first event names no customer; the next does.
    conv(e3, T0 + 2 * DAY, queued()),
    conv(e3, T0 + 2 * DAY + 10_000, assigned('ada', 10_000), ofErased),
  ];
  const later = [
    conv(e2, T0 + DAY, queued('tier2/general/sms'), { ...ofErased, reason: repeatReason }),
    conv(e2, T0 + DAY + 5_000, assigned('cy', 5_000), ofErased),
    conv(e2, T0 + DAY + 65_000, resolved('cy'), ofErased),
    // e3 resolved and rated after the erasure: it was opened before it.
    conv(e3, ERASED_AT + DAY, resolved('ada'), ofErased),
    conv(e3, ERASED_AT + DAY + MIN, survey('ada', 2), ofErased),
  ];
  return { first, later, all: [...first, ...later] };
}

function survey(agentId: string, score: number): Step {
  return { $case: 'surveyAnswered', surveyAnswered: { question: 'q', score, comment: '', agentId, queue: '' } };
}

/** The erasure as customer-record publishes it: the customer and each of their conversations. */
function erasure(subjects: [SubjectKind, string][] = [['customer', erasedCustomer], ...[e1, e2, e3].map((id): [SubjectKind, string] => ['conversation', id])]) {
  return ErasureSet.of(
    KEY,
    subjects.map(([kind, value]) => ({ subjectKey: subjectKey(KEY, kind, value), erasedAt: new Date(ERASED_AT) })),
  );
}

function figures(f: ReportFold) {
  return (['15m', 'hour', 'day'] as const).flatMap((interval) => (['queue', 'channel', 'agent'] as const).map((by) => f.report(interval, by, 0, Infinity)));
}

function foldInto(f: ReportFold, records: Rec[]): ReportFold {
  for (const r of records) f.add(r);
  return f;
}

const heldErasedIds = (f: ReportFold) => erasedIds.filter((id) => holdsText(f, id));

describe('report fold and erasures', () => {
  it('forgets an erased customer’s conversation and customer ids, and keeps every figure', () => {
    const f = fold(scenario().all);
    const before = figures(f);
    expect(heldErasedIds(f)).toEqual(erasedIds);
    expect(f.forget(erasure())).toMatchObject({ conversations: 3 });
    expect(heldErasedIds(f)).toEqual([]);
    expect(figures(f)).toEqual(before);
    // Another customer's stay as they were.
    expect(holdsText(f, k1) && holdsText(f, keptCustomer)).toBe(true);
    const [day] = f.report('day', 'queue', T0 - (T0 % DAY), T0 - (T0 % DAY) + DAY);
    expect(day!.figures).toMatchObject({ offered: 2, resolved: 2, firstContactResolution: 0.5 });
  });

  it('counts the events that arrive after the erasure as before, a repeat taking back a resolution included, under no id', () => {
    const { first, later, all } = scenario();
    const f = fold(first);
    // Only the customer's erasure: their conversations go with them.
    f.forget(erasure([['customer', erasedCustomer]]));
    foldInto(f, later);
    expect(heldErasedIds(f)).toEqual([]);
    expect(figures(f)).toEqual(figures(fold(all)));
    // A record read again (a dead letter put back) still counts once.
    expect(f.add(later[0]!)).toBe(false);
    expect(f.add(first[0]!)).toBe(false);
  });

  it('gives the same figures in a rebuild that knows the erasure first, in any order of partitions, never holding the ids', () => {
    const { all } = scenario();
    // Each conversation's events in their order (one partition); the repeat read before the resolution it takes back.
    const byConversation = (id: string) => all.filter((r) => (r.event as { conversationId: string }).conversationId === id);
    for (const records of [all, [e2, k1, e3, e1].flatMap(byConversation)]) {
      const rebuilt = new ReportFold();
      rebuilt.forget(erasure());
      const seen: string[][] = [];
      for (const r of records) {
        rebuilt.add(r);
        seen.push(heldErasedIds(rebuilt));
      }
      expect(seen.flat()).toEqual([]);
      expect(figures(rebuilt)).toEqual(figures(fold(records)));
    }
  });

  it('keeps under its id what the customer started after the erasure, and a later set is checked again', () => {
    const known = new ErasureSet(KEY);
    const f = new ReportFold();
    f.forget(known);
    foldInto(f, answeredConversation('conv-after-erasure-3f9b', ERASED_AT + DAY, 'ada', 1000, MIN, undefined, ofErased));
    foldInto(f, answeredConversation(e1, T0, 'ada', 1000, MIN, undefined, ofErased));
    known.add(subjectKey(KEY, 'customer', erasedCustomer), new Date(ERASED_AT));
    expect(f.forget(known)).toEqual({ conversations: 1, customerTraces: 1 });
    expect(holdsText(f, e1)).toBe(false);
    expect(holdsText(f, 'conv-after-erasure-3f9b') && holdsText(f, erasedCustomer)).toBe(true);
  });
});
