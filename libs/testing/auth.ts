// Keys and tokens for tests: one Ed25519 key pair per issuer, made once per test process in a
// temporary folder, and tokens minted with them exactly as the issuers do.
//   configuration of a service under test:  { ...testAuthEnv('routing') }
//   a caller's token for a service:          await testToken({ id: 'ana', role: 'agent' }, 'routing')
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Metadata } from '@grpc/grpc-js';
import { SignJWT } from 'jose';
import {
  bearerMetadata,
  ensureKeyPairs,
  isIssuer,
  issueToken,
  keyId,
  readSigningKey,
  type Audience,
  type Caller,
  type IssueOptions,
  type IssuerName,
  type KeyFiles,
  type SigningKey,
} from '../auth';

let files: KeyFiles | undefined;
const signers = new Map<IssuerName, SigningKey>();

/** The test process's key files: `publicKeysDir` and each issuer's `privateKeyFile`. */
export function testKeys(): KeyFiles {
  if (!files) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-test-keys-'));
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    files = ensureKeyPairs(dir);
  }
  return files;
}

/** The erasure key of every service under test that keeps customer data: they share erasures. */
const TEST_ERASURE_KEY = 'test-erasure-key-0123456789abcdefghij';
const ERASURE_FOLLOWERS = ['customer-record', 'routing', 'email', 'sms-voice', 'chat', 'integration-api'];

/** The test erasure key, to name erased subjects as customer-record does. */
export function testErasureKey(): string {
  return TEST_ERASURE_KEY;
}

/** What a service under test needs: the trusted public keys, and its own private key if it issues tokens. */
export function testAuthEnv(service: string): { AUTH_PUBLIC_KEYS_DIR: string; AUTH_PRIVATE_KEY_FILE?: string; ERASURE_KEY?: string } {
  const keys = testKeys();
  return {
    AUTH_PUBLIC_KEYS_DIR: keys.publicKeysDir,
    ...(isIssuer(service) ? { AUTH_PRIVATE_KEY_FILE: keys.privateKeyFile(service) } : {}),
    // The key erased customers are hashed with on cc.erasure.v1 (customer-record's, and the stores that follow it).
    ...(ERASURE_FOLLOWERS.includes(service) ? { ERASURE_KEY: TEST_ERASURE_KEY } : {}),
  };
}

/** An issuer's signing key from the test key files. */
function testSigningKey(issuer: IssuerName): SigningKey {
  let signer = signers.get(issuer);
  if (!signer) signers.set(issuer, (signer = readSigningKey(testKeys().privateKeyFile(issuer), issuer)));
  return signer;
}

/** A key pair no service trusts, claiming to be `issuer`'s. */
function untrustedSigningKey(issuer: IssuerName): SigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { issuer, key: privateKey, kid: keyId(createPublicKey(privateKey)) };
}

/**
 * Who mints a caller's token in the running system: the desk for agents, experts and
 * supervisors, the ops console for ops and privacy, and a service for itself (`id` is the service's name).
 */
function issuerOf(caller: Caller): IssuerName {
  if (caller.role === 'ops' || caller.role === 'privacy') return 'ops-console';
  if (caller.role !== 'service') return 'agent-desk';
  if (!isIssuer(caller.id)) throw new Error(`a service token's id is the calling service's name (routing, sms-voice, ops-console), not ${caller.id}`);
  return caller.id;
}

/** A token for `caller` addressed to `audience`, signed as its issuer would (or as `options.issuer`). */
export function testToken(caller: Caller, audience: Audience, options: IssueOptions & { issuer?: IssuerName; signer?: SigningKey } = {}): Promise<string> {
  const signer = options.signer ?? testSigningKey(options.issuer ?? issuerOf(caller));
  return issueToken(signer, caller, audience, options);
}

/** `authorization: Bearer <testToken>` call metadata. */
export async function testMetadata(caller: Caller, audience: Audience): Promise<Metadata> {
  return bearerMetadata(await testToken(caller, audience));
}

/**
 * Tokens a service addressed as `audience` must refuse, each named by what is wrong with it; the
 * first three are refused as PERMISSION_DENIED (a real issuer minting what it may not), the rest
 * as UNAUTHENTICATED.
 */
export async function refusedTokens(audience: Audience): Promise<Record<string, string>> {
  const now = Math.floor(Date.now() / 1000);
  const desk = testSigningKey('agent-desk');
  const other: Audience = audience === 'routing' ? 'customer-record' : 'routing';
  const claims = { iss: 'agent-desk', sub: 'ana', role: 'supervisor', aud: audience, iat: now };
  return {
    'a supervisor token signed with the sms-voice key': await testToken({ id: 'mallory', role: 'supervisor' }, audience, { issuer: 'sms-voice' }),
    'a service token sms-voice mints for routing': await testToken({ id: 'routing', role: 'service' }, audience, { issuer: 'sms-voice' }),
    'an ops token signed with the desk key': await testToken({ id: 'olu', role: 'ops' }, audience, { issuer: 'agent-desk' }),
    'a token without exp': await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: desk.kid }).sign(desk.key),
    [`a token for ${other}`]: await testToken({ id: 'sue', role: 'supervisor' }, other),
    'an HS256 token made with the old shared secret': await new SignJWT({ role: 'supervisor' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('sue')
      .setIssuer('contactcenter')
      .setIssuedAt()
      .setExpirationTime('8h')
      .sign(new TextEncoder().encode('the-old-AUTH_JWT_SECRET-0123456789abcdef')),
    'a token from a key nobody trusts': await testToken({ id: 'sue', role: 'supervisor' }, audience, { signer: untrustedSigningKey('agent-desk') }),
    'a token living eight hours': await testToken({ id: 'sue', role: 'supervisor' }, audience, { ttlSeconds: 8 * 3600 }),
    'an expired token': await testToken({ id: 'sue', role: 'supervisor' }, audience, { nowSeconds: now - 3600 }),
  };
}
