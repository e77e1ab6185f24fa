// The read rules on their own, without servers: who may read which conversation's customer.
import { describe, expect, it } from 'vitest';
import { ConversationEvent } from '#libs/proto';
import { applyEvent, checkReadRequest, decidePersonRead, emptyAccess, holds, ReadRefusedError, ReadRequestError, type ConversationAccess } from '../src/access';
import { mayCall, seesContents, seesIdentity, serviceSeesContents } from '../src/authz';

const HOUR = 3_600_000;
const WINDOW = 8 * HOUR;
const t0 = new Date('2026-03-01T09:00:00Z');
const at = (hours: number) => new Date(t0.getTime() + hours * HOUR);
let n = 0;
const ev = (step: ConversationEvent['step'], hours = 0) =>
  ConversationEvent.fromPartial({ eventId: `e${++n}`, conversationId: 'conv-1', occurredAt: at(hours), step } as never);

function project(...events: ConversationEvent[]): ConversationAccess {
  return events.reduce((a, e) => applyEvent(a, e) ?? a, emptyAccess('conv-1'));
}

const read = (access: ConversationAccess | null, personId: string, now: Date, over: Partial<Parameters<typeof decidePersonRead>[0]> = {}) =>
  decidePersonRead({ personId, conversationId: 'conv-1', access, conversationCustomerId: 'cu-1', askedCustomerId: 'cu-1', now, windowMs: WINDOW, ...over });

describe('conversation access projection', () => {
  it('grants on an offer, keeps it while assigned, releases on decline, transfer, escalation and resolution', () => {
    const a = project(
      ev({ $case: 'offered', offered: { agentId: 'ana', expiresAt: undefined } }, 0),
      ev({ $case: 'offerDeclined', offerDeclined: { agentId: 'ana', timedOut: true } }, 0.1),
      ev({ $case: 'offered', offered: { agentId: 'bo', expiresAt: undefined } }, 0.2),
      ev({ $case: 'assigned', assigned: { agentId: 'bo', tier: 1, waitedMs: 0 } }, 0.3),
      ev({ $case: 'escalated', escalated: { fromAgentId: 'bo', note: '', queue: 'tier2/billing', skill: '', automatic: false } }, 1),
      ev({ $case: 'offered', offered: { agentId: 'max', expiresAt: undefined } }, 1.1),
    );
    expect(a.people.map((p) => [p.personId, p.releasedAt?.getTime() ?? null])).toEqual([
      ['ana', at(0.1).getTime()],
      ['bo', at(1).getTime()],
      ['max', null],
    ]);
    const ended = applyEvent(a, ev({ $case: 'resolved', resolved: { agentId: 'max', disposition: 'done' } }, 2))!;
    expect(ended.endedAt).toEqual(at(2));
    expect(ended.people.every((p) => p.releasedAt)).toBe(true);
    expect(holds(ended, 'max', at(2 + 7.9), WINDOW)).toBe(true);
    expect(holds(ended, 'max', at(2 + 8.1), WINDOW)).toBe(false);
    expect(holds(ended, 'ana', at(8.2), WINDOW)).toBe(false);
  });

  it('moves access on a transfer to an agent, and an event seen twice changes nothing', () => {
    const offer = ev({ $case: 'offered', offered: { agentId: 'ana', expiresAt: undefined } });
    const transfer = ev({ $case: 'transferred', transferred: { fromAgentId: 'ana', toAgentId: 'cy', toQueue: '', note: '' } }, 1);
    const a = project(offer, transfer);
    expect(a.people.find((p) => p.personId === 'cy')?.releasedAt).toBeNull();
    expect(a.people.find((p) => p.personId === 'ana')?.releasedAt).toEqual(at(1));
    expect(applyEvent(a, offer)).toBeNull();
    expect(applyEvent(a, ev({ $case: 'replied', replied: { agentId: 'cy', outboundMessageId: 'o', text: 'hi', attachments: [] } }))).toBeNull();
  });
});

describe('who may read a customer', () => {
  const offeredToBo = project(ev({ $case: 'offered', offered: { agentId: 'bo', expiresAt: undefined } }));

  it('refuses agent A the customer of a conversation offered to agent B, and allows B', () => {
    expect(() => read(offeredToBo, 'ana', at(0))).toThrow(ReadRefusedError);
    expect(() => read(offeredToBo, 'ana', at(0))).toThrow('conversation conv-1 was not offered to or held by ana');
    expect(read(offeredToBo, 'bo', at(0))).toBe('cu-1');
    // Not yet projected: a refusal that catching up may cure.
    expect(() => read(null, 'bo', at(0))).toThrow(expect.objectContaining({ mayCatchUp: true }));
  });

  it("refuses another customer than the conversation's, and a conversation whose customer is unknown", () => {
    expect(() => read(offeredToBo, 'bo', at(0), { askedCustomerId: 'cu-2' })).toThrow('the customer asked for is not the customer of conversation conv-1');
    expect(() => read(offeredToBo, 'bo', at(0), { askedCustomerId: 'cu-2' })).toThrow(expect.objectContaining({ mayCatchUp: false }));
    expect(() => read(offeredToBo, 'bo', at(0), { conversationCustomerId: null })).toThrow(expect.objectContaining({ mayCatchUp: true }));
    // Named by conversation only: the conversation's customer.
    expect(read(offeredToBo, 'bo', at(0), { askedCustomerId: null })).toBe('cu-1');
  });

  it('refuses a conversation that stopped being theirs longer ago than the window', () => {
    const released = project(
      ev({ $case: 'assigned', assigned: { agentId: 'bo', tier: 1, waitedMs: 0 } }, 0),
      ev({ $case: 'abandoned', abandoned: { waitedMs: 0 } }, 1),
    );
    expect(read(released, 'bo', at(8.5))).toBe('cu-1');
    expect(() => read(released, 'bo', at(9.5))).toThrow(/stopped being bo's more than 8 h ago/);
  });

  it('asks agents for the conversation and supervisors and ops for a reason', () => {
    expect(() => checkReadRequest({ caller: { id: 'ana', role: 'agent' }, conversationId: '', reason: '' })).toThrow(ReadRequestError);
    expect(() => checkReadRequest({ caller: { id: 'ana', role: 'agent' }, conversationId: '', reason: '' })).toThrow(/conversation_id is required/);
    expect(() => checkReadRequest({ caller: { id: 'sue', role: 'supervisor' }, conversationId: 'c', reason: '  ' })).toThrow(
      'reason is required: a supervisor or ops reading a customer says why, and the reason is audited',
    );
    expect(() => checkReadRequest({ caller: { id: 'olga', role: 'ops' }, conversationId: '', reason: '' })).toThrow(/reason is required/);
    expect(() => checkReadRequest({ caller: { id: 'sue', role: 'supervisor' }, conversationId: '', reason: 'ok' })).toThrow(/too short/);
    expect(() => checkReadRequest({ caller: { id: 'sue', role: 'supervisor' }, conversationId: '', reason: 'x'.repeat(501) })).toThrow(/longer than 500/);
    expect(() => checkReadRequest({ caller: { id: 'sue', role: 'supervisor' }, conversationId: '', reason: 'complaint\nfollow-up' })).toThrow(/one line/);
    expect(() => checkReadRequest({ caller: { id: 'sue', role: 'supervisor' }, conversationId: '', reason: 'complaint follow-up' })).not.toThrow();
    expect(() => checkReadRequest({ caller: { id: 'routing', role: 'service' }, conversationId: '', reason: '' })).not.toThrow();
  });

  it('grants services by name and shows ops neither contents nor who the customer is', () => {
    expect(mayCall({ id: 'routing', role: 'service' }, 'GetCustomerContext')).toBe(true);
    expect(mayCall({ id: 'routing', role: 'service' }, 'GetHistory')).toBe(false);
    expect(mayCall({ id: 'sms-voice', role: 'service' }, 'GetCustomerContext')).toBe(false);
    expect(mayCall({ id: 'ana', role: 'agent' }, 'ResolveCustomer')).toBe(false);
    expect(mayCall({ id: 'olga', role: 'ops' }, 'GetCustomerContext')).toBe(true);
    expect([seesContents('ops'), seesIdentity('ops'), seesContents('service'), seesContents('agent')]).toEqual([false, false, false, true]);
  });

  it('gives history contents to the integration API only when it asks, with a reason', () => {
    const api = { id: 'integration-api', role: 'service' } as const;
    expect(serviceSeesContents(api, true, 'API key k1 (crm): order follow-up')).toBe(true);
    expect(serviceSeesContents(api, false, 'API key k1 (crm): order follow-up')).toBe(false);
    expect(serviceSeesContents(api, true, '  ')).toBe(false);
    expect(serviceSeesContents({ id: 'routing', role: 'service' }, true, 'a reason')).toBe(false);
    expect(serviceSeesContents({ id: 'integration-api', role: 'ops' }, true, 'a reason')).toBe(false);
  });
});
