import { describe, expect, it } from 'vitest';
import { Channel, channelToJSON } from '../proto';
import { CHANNEL_ENUM, CHANNEL_NAMES, channelName, channelNameOfJson, isChannelName } from './channels';

describe('channel names', () => {
  it('map each name to its enum value and back', () => {
    expect(CHANNEL_ENUM).toEqual({
      email: Channel.CHANNEL_EMAIL,
      sms: Channel.CHANNEL_SMS,
      voice: Channel.CHANNEL_VOICE,
      chat: Channel.CHANNEL_CHAT,
      api: Channel.CHANNEL_API,
      whatsapp: Channel.CHANNEL_WHATSAPP,
    });
    for (const name of CHANNEL_NAMES) expect(channelName(CHANNEL_ENUM[name])).toBe(name);
  });

  it('are listed in the order of the enum', () => {
    expect(CHANNEL_NAMES).toEqual(['email', 'sms', 'voice', 'chat', 'api', 'whatsapp']);
  });

  it('have no name for an unspecified or unknown channel', () => {
    expect(channelName(Channel.CHANNEL_UNSPECIFIED)).toBeUndefined();
    expect(channelName(Channel.UNRECOGNIZED)).toBeUndefined();
    expect(channelName(99 as Channel)).toBeUndefined();
  });

  it('read the enum as protobuf JSON writes it, and nothing else', () => {
    for (const name of CHANNEL_NAMES) expect(channelNameOfJson(channelToJSON(CHANNEL_ENUM[name]))).toBe(name);
    for (const other of ['CHANNEL_UNSPECIFIED', 'UNRECOGNIZED', 'CHANNEL_FAX', 'email', '', 1, undefined, null])
      expect(channelNameOfJson(other)).toBeUndefined();
  });

  it('tell a channel name from other words', () => {
    expect(CHANNEL_NAMES.every(isChannelName)).toBe(true);
    for (const other of ['Email', 'fax', 'total', '']) expect(isChannelName(other)).toBe(false);
  });
});
