// Which events a viewer asked to see: by topic, channel and conversation.
import { CHANNEL_NAMES, channelNameOfJson, isChannelName, type ChannelName } from '#libs/contact';
import { allTopics, DEAD_LETTER_TOPIC, topics } from '#libs/kafka';
import { conversationOf, type DescribedRecord } from './records';

/** Every topic but the erasures: hashes of erased customers are nothing to watch, and nobody's conversation. */
export const CONSOLE_TOPICS = [...allTopics.filter((t) => t !== topics.erasures).map((t) => t.name), DEAD_LETTER_TOPIC];

export interface StreamFilter {
  /** Empty means every topic. */
  topics: string[];
  channel?: ChannelName;
  conversationId?: string;
}

export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterError';
  }
}

const CONVERSATION_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

export function parseConversationId(value: string | null | undefined): string {
  const id = (value ?? '').trim();
  if (!CONVERSATION_ID.test(id)) throw new FilterError('conversation id must be 1-128 letters, digits or . _ : @ -');
  return id;
}

/** Reads ?topic=a&topic=b&channel=email&conversation=ID; unknown values are refused by name. */
export function parseFilter(params: URLSearchParams): StreamFilter {
  const topics = params
    .getAll('topic')
    .flatMap((t) => t.split(','))
    .map((t) => t.trim())
    .filter(Boolean);
  for (const t of topics) if (!CONSOLE_TOPICS.includes(t)) throw new FilterError(`unknown topic ${t}; one of: ${CONSOLE_TOPICS.join(', ')}`);
  const filter: StreamFilter = { topics };
  const channel = params.get('channel')?.trim();
  if (channel) {
    if (!isChannelName(channel)) throw new FilterError(`unknown channel ${channel}; one of: ${CHANNEL_NAMES.join(', ')}`);
    filter.channel = channel;
  }
  const conversation = params.get('conversation');
  if (conversation?.trim()) filter.conversationId = parseConversationId(conversation);
  return filter;
}

/** "CHANNEL_EMAIL" in protobuf JSON becomes "email"; undefined when the event has no channel. */
export function channelOf(record: DescribedRecord): ChannelName | undefined {
  return channelNameOfJson((record.event as { channel?: unknown } | undefined)?.channel);
}

export function matchesFilter(record: DescribedRecord, filter: StreamFilter): boolean {
  if (filter.topics.length > 0 && !filter.topics.includes(record.topic)) return false;
  if (filter.channel && channelOf(record) !== filter.channel) return false;
  if (filter.conversationId && conversationOf(record) !== filter.conversationId) return false;
  return true;
}
