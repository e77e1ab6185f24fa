// The softphone's Twilio Access Token: short-lived, for the signed-in person's own identity,
// with only the voice grant to receive calls. No I/O.
import twilio from 'twilio';

const { AccessToken } = twilio.jwt;

export interface VoiceTokenKeys {
  accountSid: string;
  apiKeySid: string;
  apiKeySecret: string;
  ttlSeconds: number;
}

/** The Twilio Client identity calls to a person are dialled to (sms-voice's `<Client>`): their staff id. */
function softphoneIdentity(staffId: string): string {
  return staffId;
}

/**
 * A token that lets the desk register as the person's softphone and take calls dialled to it.
 * No outgoing application: the softphone cannot place calls of its own, only answer.
 */
export function mintVoiceToken(keys: VoiceTokenKeys, staffId: string): { token: string; identity: string; expiresAt: number } {
  const identity = softphoneIdentity(staffId);
  const token = new AccessToken(keys.accountSid, keys.apiKeySid, keys.apiKeySecret, { identity, ttl: keys.ttlSeconds });
  token.addGrant(new AccessToken.VoiceGrant({ incomingAllow: true }));
  const jwt = token.toJwt();
  // The library sets the expiry from its own clock: the page renews by what the token says.
  const { exp } = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number };
  return { token: jwt, identity, expiresAt: exp * 1000 };
}
