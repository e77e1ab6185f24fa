// The topic registry: every topic's name, the protobuf message its values hold, and what its key is.
import type { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import {
  AgentState,
  CalendarsChanged,
  ContactReceived,
  ConversationEvent,
  CustomerErased,
  CustomerMerged,
  OutboundMessage,
  SlaEvent,
} from '../proto/gen/contactcenter/v1/events.pb';

/** What ts-proto generates for each message: enough to encode, decode and build one. */
export interface MessageCodec<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
  decode(input: BinaryReader | Uint8Array, length?: number): T;
  fromPartial(object: never): T;
  /** Canonical protobuf JSON. */
  toJSON(message: T): unknown;
}

export interface TopicSpec<T> {
  name: string;
  /** Full protobuf name, also the CloudEvents ce_type. */
  type: string;
  codec: MessageCodec<T>;
  /** Which field of the value is the record key. */
  key: string;
  compacted?: boolean;
}

const topic = <T>(spec: TopicSpec<T>) => spec;

export const topics = {
  contactInbound: topic<ContactReceived>({
    name: 'cc.contact.inbound.v1',
    type: 'contactcenter.v1.ContactReceived',
    codec: ContactReceived as MessageCodec<ContactReceived>,
    key: 'conversation id',
  }),
  conversationEvents: topic<ConversationEvent>({
    name: 'cc.conversation.events.v1',
    type: 'contactcenter.v1.ConversationEvent',
    codec: ConversationEvent as MessageCodec<ConversationEvent>,
    key: 'conversation id',
  }),
  agentState: topic<AgentState>({
    name: 'cc.agent.state.v1',
    type: 'contactcenter.v1.AgentState',
    codec: AgentState as MessageCodec<AgentState>,
    key: 'agent id',
    compacted: true,
  }),
  outbound: topic<OutboundMessage>({
    name: 'cc.outbound.v1',
    type: 'contactcenter.v1.OutboundMessage',
    codec: OutboundMessage as MessageCodec<OutboundMessage>,
    key: 'conversation id',
  }),
  sla: topic<SlaEvent>({
    name: 'cc.sla.v1',
    type: 'contactcenter.v1.SlaEvent',
    codec: SlaEvent as MessageCodec<SlaEvent>,
    key: 'conversation id',
  }),
  customerMerges: topic<CustomerMerged>({
    name: 'cc.customer.merges.v1',
    type: 'contactcenter.v1.CustomerMerged',
    codec: CustomerMerged as MessageCodec<CustomerMerged>,
    key: 'target customer id',
  }),
  // Compacted: an erasure is kept for as long as the topics it covers could be replayed.
  erasures: topic<CustomerErased>({
    name: 'cc.erasure.v1',
    type: 'contactcenter.v1.CustomerErased',
    codec: CustomerErased as MessageCodec<CustomerErased>,
    key: 'subject key (keyed hash of a customer id, identity or conversation id)',
    compacted: true,
  }),
  // Compacted: the latest opening hours of each routing deployment are what a reader needs.
  calendars: topic<CalendarsChanged>({
    name: 'cc.calendars.v1',
    type: 'contactcenter.v1.CalendarsChanged',
    codec: CalendarsChanged as MessageCodec<CalendarsChanged>,
    key: 'routing deployment (its consumer group)',
    compacted: true,
  }),
} as const;

/** Records that could not be processed: original key and bytes, the reason in headers. */
export const DEAD_LETTER_TOPIC = 'cc.deadletter.v1';

export type TopicKey = keyof typeof topics;
export const allTopics: TopicSpec<unknown>[] = Object.values(topics) as TopicSpec<unknown>[];

export function topicByName(name: string): TopicSpec<unknown> | undefined {
  return allTopics.find((t) => t.name === name);
}
