// The channels by name, as configuration, rules, screens and URLs speak of them, and as
// the protobuf enum events carry: one mapping for every service.
import { Channel, channelFromJSON } from '../proto';

/** In the order of the protobuf enum. */
export const CHANNEL_NAMES = ['email', 'sms', 'voice', 'chat', 'api', 'whatsapp'] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];

export const CHANNEL_ENUM: Readonly<Record<ChannelName, Channel>> = {
  email: Channel.CHANNEL_EMAIL,
  sms: Channel.CHANNEL_SMS,
  voice: Channel.CHANNEL_VOICE,
  chat: Channel.CHANNEL_CHAT,
  api: Channel.CHANNEL_API,
  whatsapp: Channel.CHANNEL_WHATSAPP,
};

const NAMES = new Map<Channel, ChannelName>(CHANNEL_NAMES.map((name) => [CHANNEL_ENUM[name], name]));

/** The name of a channel; undefined for CHANNEL_UNSPECIFIED and for values this build does not know. */
export function channelName(channel: Channel): ChannelName | undefined {
  return NAMES.get(channel);
}

/** The name of a channel as protobuf JSON writes it ("CHANNEL_EMAIL" is "email"); undefined for anything else. */
export function channelNameOfJson(value: unknown): ChannelName | undefined {
  return typeof value === 'string' ? channelName(channelFromJSON(value)) : undefined;
}

export function isChannelName(value: string): value is ChannelName {
  return (CHANNEL_NAMES as readonly string[]).includes(value);
}
