// The softphone's access token, checked with an independent JWT verifier, and where a person's calls ring.
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { staffMemberSchema } from '#libs/staff';
import { parseStaffArgs, UsageError } from '../src/staff-args';
import { voiceTokenKeys } from '../src/voice-routes';
import { mintVoiceToken } from '../src/voice-token';

const keys = { accountSid: `AC${'a1'.repeat(16)}`, apiKeySid: `SK${'b2'.repeat(16)}`, apiKeySecret: 'c3'.repeat(16), ttlSeconds: 300 };
const add = ['add', '--id', 'ana', '--name', 'Ana', '--role', 'agent'];
const memberOf = (argv: string[]) => {
  const parsed = parseStaffArgs(argv);
  if (parsed.command !== 'add') throw new Error('not an add');
  return parsed.member;
};

describe('softphone access token', () => {
  it('is signed with the API key secret, for the agent alone, with only an incoming voice grant, and short-lived', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { token, identity, expiresAt } = mintVoiceToken(keys, 'ana');
    const { payload } = await jwtVerify(token, new TextEncoder().encode(keys.apiKeySecret), {
      algorithms: ['HS256'],
      issuer: keys.apiKeySid,
      subject: keys.accountSid,
    });
    expect(decodeProtectedHeader(token)).toMatchObject({ cty: 'twilio-fpa;v=1', typ: 'JWT', alg: 'HS256' });
    expect(identity).toBe('ana');
    expect(payload.grants).toEqual({ identity: 'ana', voice: { incoming: { allow: true } } });
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(expiresAt).toBe(payload.exp! * 1000);
    await expect(jwtVerify(token, new TextEncoder().encode('d4'.repeat(16)))).rejects.toThrow(/signature/);
  });

  it('has no outgoing application: the softphone may only answer', () => {
    const grants = decodeJwt(mintVoiceToken(keys, 'max').token).grants as { voice: Record<string, unknown> };
    expect(grants.voice.outgoing).toBeUndefined();
  });

  it('needs all three keys or none', () => {
    const config = {
      TWILIO_ACCOUNT_SID: keys.accountSid,
      TWILIO_API_KEY_SID: keys.apiKeySid,
      TWILIO_API_KEY_SECRET: keys.apiKeySecret,
      VOICE_TOKEN_TTL_SECONDS: 600,
    };
    expect(voiceTokenKeys({ VOICE_TOKEN_TTL_SECONDS: 600 })).toBeUndefined();
    expect(voiceTokenKeys(config)).toMatchObject({ ttlSeconds: 600 });
    expect(() => voiceTokenKeys({ ...config, TWILIO_API_KEY_SECRET: undefined })).toThrow(/all three or none/);
  });
});

describe('where calls ring', () => {
  it('on the own phone when a number is given, validated as E.164', () => {
    expect(memberOf([...add, '--phone', '+14155550199'])).toMatchObject({ phone: '+14155550199', answerCallsOn: 'phone' });
    expect(memberOf([...add, '--phone', '+14155550199', '--answer-on', 'softphone'])).toMatchObject({ answerCallsOn: 'softphone' });
    expect(staffMemberSchema.parse(memberOf(add))).toMatchObject({ answerCallsOn: 'softphone' });
    expect(() => parseStaffArgs([...add, '--phone', '0612345678'])).toThrow(
      new UsageError('--phone: "0612345678" must be in E.164 form, such as +14155550100'),
    );
    expect(() => parseStaffArgs([...add, '--answer-on', 'phone'])).toThrow(/needs --phone/);
    expect(() => parseStaffArgs([...add, '--answer-on', 'desk'])).toThrow(/softphone or phone/);
  });

  it('the roster refuses the own phone without a number', () => {
    expect(() => staffMemberSchema.parse({ id: 'ana', name: 'Ana', role: 'agent', answerCallsOn: 'phone' })).toThrow(/needs a phone number/);
    expect(() => staffMemberSchema.parse({ id: 'ana', name: 'Ana', role: 'agent', phone: '+1 415 555' })).toThrow(/E\.164/);
  });
});
