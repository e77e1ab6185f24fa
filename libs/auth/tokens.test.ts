// Signing and verification with real Ed25519 keys, in memory: no files, no servers.
import { generateKeyPairSync, createPublicKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { AuthError } from './errors';
import type { IssuerName } from './issuers';
import { keyId, type SigningKey, type TrustedKey } from './keys';
import { createTokenVerifier, issueToken, serviceTokenSource } from './tokens';

function pair(issuer: IssuerName): { signer: SigningKey; trusted: TrustedKey } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const kid = keyId(publicKey);
  return { signer: { issuer, kid, key: privateKey }, trusted: { issuer, kid, file: `${issuer}.pub.pem`, key: publicKey } };
}

const desk = pair('agent-desk');
const smsVoice = pair('sms-voice');
const routing = pair('routing');
const keys = [desk.trusted, smsVoice.trusted, routing.trusted];
const customerRecord = createTokenVerifier({ keys, audience: 'customer-record' });
const routingVerifier = createTokenVerifier({ keys, audience: 'routing' });

async function refusal(token: string, verify = customerRecord): Promise<AuthError> {
  const err = await verify(token).then(
    () => new Error('the token was accepted'),
    (e: unknown) => e,
  );
  if (!(err instanceof AuthError)) throw err;
  return err;
}

const raw = (key: KeyObject | Uint8Array, alg: string, kid: string | undefined, claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader(kid ? { alg, kid } : { alg }).sign(key);

describe('token verification', () => {
  it('accepts what an issuer minted for this service', async () => {
    expect(await customerRecord(await issueToken(desk.signer, { id: 'ana', role: 'supervisor' }, 'customer-record'))).toEqual({
      id: 'ana',
      role: 'supervisor',
    });
    expect(await routingVerifier(await serviceTokenSource(smsVoice.signer, 'routing')())).toEqual({ id: 'sms-voice', role: 'service' });
  });

  it("refuses a supervisor token signed with a channel service's key", async () => {
    const err = await refusal(await issueToken(smsVoice.signer, { id: 'mallory', role: 'supervisor' }, 'routing'), routingVerifier);
    expect(err).toMatchObject({ kind: 'permission_denied', message: 'invalid token: sms-voice may not mint tokens with role supervisor' });
  });

  it('refuses a token for another service', async () => {
    const err = await refusal(await issueToken(desk.signer, { id: 'ana', role: 'agent' }, 'routing'));
    expect(err).toMatchObject({ kind: 'unauthenticated', message: 'invalid token: token is for routing, not for customer-record' });
  });

  it('refuses a token without exp', async () => {
    const token = await raw(desk.signer.key, 'EdDSA', desk.signer.kid, {
      iss: 'agent-desk',
      sub: 'ana',
      role: 'agent',
      aud: 'customer-record',
      iat: Math.floor(Date.now() / 1000),
    });
    expect((await refusal(token)).message).toBe('invalid token: token has no expiry (exp)');
  });

  it('refuses an HS256 token made with a shared secret', async () => {
    const secret = new TextEncoder().encode('routing-integration-test-secret-0123456789');
    const token = await new SignJWT({ role: 'supervisor' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setIssuer('contactcenter')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(secret);
    expect((await refusal(token)).message).toBe('invalid token: token is signed with HS256; only EdDSA is accepted');
    // Even naming a trusted key id, a MAC is no signature.
    const named = await raw(secret, 'HS256', desk.signer.kid, { iss: 'agent-desk', sub: 'x', role: 'supervisor', aud: 'customer-record' });
    expect((await refusal(named)).kind).toBe('unauthenticated');
  });

  it('refuses a token from a key it does not hold, even one naming a trusted key id', async () => {
    const stranger = pair('agent-desk');
    expect((await refusal(await issueToken(stranger.signer, { id: 'ana', role: 'agent' }, 'customer-record'))).message).toBe(
      'invalid token: token is signed with a key this service does not trust',
    );
    const forged = await issueToken({ ...stranger.signer, kid: desk.signer.kid }, { id: 'ana', role: 'agent' }, 'customer-record');
    expect((await refusal(forged)).message).toBe("invalid token: token signature does not verify with agent-desk's key");
    const noKid = await raw(desk.signer.key, 'EdDSA', undefined, { iss: 'agent-desk', sub: 'ana', role: 'agent', aud: 'customer-record', iat: 1, exp: 2 });
    expect((await refusal(noKid)).message).toMatch(/does not trust/);
  });

  it('refuses garbage and oversized tokens without parsing them', async () => {
    expect((await refusal('not-a-token')).message).toBe('invalid token: token is not a JWT');
    expect((await refusal('a'.repeat(5000))).message).toMatch(/longer than 4096 bytes/);
  });

  it('accepts either key of an issuer during a rotation', async () => {
    const next = pair('agent-desk');
    const rotating = createTokenVerifier({ keys: [...keys, { ...next.trusted, file: 'agent-desk.next.pub.pem' }], audience: 'customer-record' });
    for (const signer of [desk.signer, next.signer])
      expect((await rotating(await issueToken(signer, { id: 'ana', role: 'agent' }, 'customer-record'))).id).toBe('ana');
  });

  it('refuses an expired token and one that lives too long', async () => {
    const old = Math.floor(Date.now() / 1000) - 3600;
    expect((await refusal(await issueToken(desk.signer, { id: 'ana', role: 'agent' }, 'customer-record', { nowSeconds: old }))).message).toBe(
      'invalid token: token has expired',
    );
    expect((await refusal(await issueToken(desk.signer, { id: 'ana', role: 'agent' }, 'customer-record', { ttlSeconds: 8 * 3600 }))).message).toMatch(
      /longer than the 900 s allowed/,
    );
  });

  it('refuses a token it accepted before once it has expired (a checked signature is remembered, its claims are not)', async () => {
    let now = Date.now();
    const verify = createTokenVerifier({ keys, audience: 'customer-record', now: () => now });
    const token = await issueToken(desk.signer, { id: 'ana', role: 'agent' }, 'customer-record');
    expect(await verify(token)).toMatchObject({ id: 'ana', role: 'agent' });
    expect(await verify(token)).toMatchObject({ id: 'ana', role: 'agent' });
    now += 3600_000;
    expect((await refusal(token, verify)).message).toBe('invalid token: token has expired');
  });

  it('renews a service token at half its life', async () => {
    let now = Date.now();
    const realNow = Date.now;
    Date.now = () => now;
    try {
      const source = serviceTokenSource(routing.signer, 'customer-record', 600);
      const first = await source();
      now += 200_000;
      expect(await source()).toBe(first);
      now += 200_000;
      expect(await source()).not.toBe(first);
    } finally {
      Date.now = realNow;
    }
  });

  it('keys are bound by their public half', () => {
    expect(keyId(createPublicKey(desk.signer.key))).toBe(desk.trusted.kid);
  });
});
