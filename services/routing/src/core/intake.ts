// A contact arrives: it opens a conversation, reopens a closed one, or adds to an open one.
// A new conversation is classified, given its priority points and SLA timers, and either
// escalated at the door (high risk, high complexity, a repeat contact) or queued.
import { channelName, type ChannelName, type CustomerFlagName } from '#libs/contact';
import { type ContactReceived, ContactKind, type Reason, RiskLevel, Tier } from '#libs/proto';
import { type Classification, type Classifier, primaryLanguage } from './classify';
import type { Core } from './context';
import { enqueue } from './dispatch';
import { findRepeat, lastAgentOf, senderCustomerKey, subjectKey } from './memory';
import { moveToExperts } from './moves';
import { callbackRequested } from './callbacks';
import { callbackNumberOf, contactProblem } from './contact-check';
import { statusAsked } from './promises';
import type { RoutingPolicy } from './policy';
import { type ConversationRecord, type CustomerInfo, RoutingError } from './records';
import { reason, ruleIds } from './reasons';
import { pushBounded } from './rings';
import { startSla } from './sla';

/** Repeats of a contact id are ignored, as are automated messages (auto-replies, bounces). */
export function contactReceived(core: Core, classifier: Classifier, contact: ContactReceived, customer: CustomerInfo): void {
  const problem = contactProblem(contact);
  if (problem) throw new RoutingError('INVALID_ARGUMENT', problem);
  const channel = channelName(contact.channel)!;
  if (contact.kind === ContactKind.CONTACT_KIND_AUTOMATED) return;
  const previous = core.conversations.get(contact.conversationId);
  if (previous?.contactIds.includes(contact.contactId)) return;
  // A company-initiated conversation waits for the customer: their answer queues it as a new one would be.
  if (previous && previous.state !== 'resolved' && previous.state !== 'abandoned' && previous.state !== 'awaiting-customer') {
    addToOpen(core, previous, contact);
    if (contact.kind === ContactKind.CONTACT_KIND_CALLBACK_REQUEST) callbackRequested(core, previous, callbackNumberOf(contact));
    return;
  }
  const now = core.clock.now();
  const conv = newConversation(core, classifier, contact, customer, channel, previous, now);
  core.conversations.set(conv.id, conv);
  const memory = core.customers.get(conv.customerKey);
  conv.lastAgentId = conv.outreach?.by ?? lastAgentOf(memory, now, core.policy);
  startSla(core, conv);
  const key = subjectKey(conv.subject, conv.skill);
  const repeat = findRepeat(memory, key, conv.id, now, core.policy);
  const matched = conv.classification.matched;
  const rules = ruleIds(matched);
  const rulesText = matched.length ? `rules ${matched.length === 1 ? rules : matched.join(', ')}` : 'no rule matched';
  const auto = escalationAtTheDoor(core.policy, conv, rules, rulesText, key, repeat, now);
  if (auto) moveToExperts(core, conv, '', '', conv.skill, true, auto);
  else {
    const how = previous?.state === 'awaiting-customer' ? 'answered' : previous ? 'reopened' : 'new';
    const code = how === 'new' ? 'conversation.new' : `conversation.${how}`;
    const what = how === 'answered' ? `company-initiated ${channel} conversation answered by the customer,` : `${how} ${channel} conversation`;
    enqueue(core, conv, false, reason(code, `${what} classified by ${rulesText}`, { rule: rules }));
  }
  // A callback spooled while the lines were busy opens its conversation as a callback.
  if (contact.kind === ContactKind.CONTACT_KIND_CALLBACK_REQUEST) callbackRequested(core, conv, callbackNumberOf(contact));
}

/** A further message in an open conversation: the agent holding it sees it at once; "status" is also answered. */
function addToOpen(core: Core, conv: ConversationRecord, contact: ContactReceived): void {
  pushBounded(conv.contactIds, contact.contactId, 50);
  core.out.conversationChanged(conv.id);
  if (conv.agentId && conv.state === 'assigned')
    core.out.notify(conv.agentId, { $case: 'customerMessage', customerMessage: { conversationId: conv.id, contact } });
  statusAsked(core, conv, contact.text);
}

/** The record of a new (or reopened) conversation, classified, in the front office. */
function newConversation(
  core: Core,
  classifier: Classifier,
  contact: ContactReceived,
  customer: CustomerInfo,
  channel: ChannelName,
  previous: ConversationRecord | undefined,
  now: number,
): ConversationRecord {
  // Without customer-record, the sender's identity stands for the customer.
  const customerKey = customer.customerId || (contact.sender ? senderCustomerKey(contact.sender) : `conversation:${contact.conversationId}`);
  const flags = customer.flags ?? [];
  const classification = classifier.classify({ subject: contact.subject, text: contact.text, language: contact.language, channel, customerFlags: flags });
  const opening: Opening = {
    id: contact.conversationId,
    channel,
    customerKey,
    customerId: customer.customerId ?? '',
    customerName: customer.name || contact.senderDisplayName,
    flags,
    accountManagerId: customer.accountManagerId ?? '',
    recipient: contact.sender,
    reference: contact.conversationReference,
    subject: contact.subject.slice(0, 500),
    language: primaryLanguage(contact.language),
    channelMetadata: contact.channelMetadata,
    state: 'new',
    points: core.policy.channelPoints[channel] + customerPoints(core.policy, flags) + classification.priority,
    slaState: 'running',
    seq: previous?.seq ?? 0,
    contactIds: previous ? [...previous.contactIds, contact.contactId].slice(-50) : [contact.contactId],
    startedBy: previous?.startedBy,
    outreach: previous?.outreach,
  };
  const conv = openRecord(opening, classification, now);
  if (contact.acknowledgedClosedUntil) conv.toldClosedUntil = contact.acknowledgedClosedUntil.getTime();
  // The answer to a person's message goes back to the queue they wrote from, to them first.
  if (opening.outreach) {
    if (opening.outreach.skill) conv.skill = opening.outreach.skill;
    conv.tier = opening.outreach.tier;
  }
  return conv;
}

/** What a conversation is opened with; the rest of its record starts untouched (see openRecord). */
export type Opening = Pick<
  ConversationRecord,
  | 'id'
  | 'channel'
  | 'customerKey'
  | 'customerId'
  | 'customerName'
  | 'flags'
  | 'accountManagerId'
  | 'recipient'
  | 'reference'
  | 'subject'
  | 'language'
  | 'channelMetadata'
  | 'state'
  | 'points'
  | 'slaState'
  | 'seq'
  | 'contactIds'
  | 'startedBy'
  | 'outreach'
>;

/**
 * A conversation's record, however it starts: tier 1, no queue, no agent, no steps yet. Written
 * out as one literal, in the order records have always had (snapshots are compared as JSON):
 * this runs for every contact that opens a conversation.
 */
export function openRecord(o: Opening, classification: Classification, now: number): ConversationRecord {
  const conv: ConversationRecord = {
    id: o.id,
    channel: o.channel,
    customerKey: o.customerKey,
    customerId: o.customerId,
    customerName: o.customerName,
    flags: o.flags,
    accountManagerId: o.accountManagerId,
    recipient: o.recipient,
    reference: o.reference,
    subject: o.subject,
    language: o.language,
    channelMetadata: o.channelMetadata,
    state: o.state,
    escalated: false,
    tier: Tier.TIER_FRONT_OFFICE,
    skill: classification.skill,
    queue: '',
    classification,
    queueKey: 0,
    createdAt: now,
    enqueuedAt: now,
    steps: [],
    stepIndex: 0,
    stepSince: now,
    stepSeq: 0,
    offerSeq: 0,
    agentId: '',
    offerExpiresAt: 0,
    assignedAt: 0,
    declinedBy: [],
    escalationNote: '',
    lastAgentId: '',
    tier1AgentId: '',
    estimateMs: 0,
    points: o.points,
    slaState: o.slaState,
    seq: o.seq,
    contactIds: o.contactIds,
  };
  if (o.startedBy) conv.startedBy = o.startedBy;
  if (o.outreach) conv.outreach = o.outreach;
  return conv;
}

function customerPoints(policy: RoutingPolicy, flags: CustomerFlagName[]): number {
  const p = policy.customerPoints;
  if (flags.includes('institutional')) return p.institutional;
  if (flags.includes('vip')) return p.vip;
  if (flags.includes('regular')) return p.regular;
  return 0;
}

/** Why the conversation goes straight to the experts, if it does. */
function escalationAtTheDoor(
  policy: RoutingPolicy,
  conv: ConversationRecord,
  rules: string,
  rulesText: string,
  subject: string,
  repeat: { at: number; conversationId: string } | undefined,
  now: number,
): Reason | undefined {
  const c = conv.classification;
  if (policy.highRiskToExperts && c.risk === RiskLevel.RISK_LEVEL_HIGH)
    return reason('rule.high_risk', `high risk (${rulesText}): straight to the experts`, { rule: rules });
  if (c.complexity >= policy.complexityThreshold)
    return reason('rule.complexity', `complexity ${c.complexity} reaches the threshold ${policy.complexityThreshold}`, { rule: rules });
  if (repeat) {
    const days = Math.round(policy.repeatContactWindowMs / 86_400_000);
    const hoursAgo = Math.round((now - repeat.at) / 3600_000);
    return reason(
      'rule.repeat_contact',
      `repeat contact on "${subject}" within ${days} days (conversation ${repeat.conversationId} was resolved ${hoursAgo} h ago)`,
      { rule: 'repeat-contact' },
    );
  }
  return undefined;
}
