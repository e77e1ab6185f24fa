// Signing and verifying bearer tokens: EdDSA (Ed25519) JWTs, `kid` naming the signing key. A
// verifier knows only public keys, each bound to its issuer, and then applies issuers.ts's rules.
import { compactVerify, decodeProtectedHeader, SignJWT } from 'jose';
import { AuthError } from './errors';
import { callerFromClaims, TOKEN_TTL_SECONDS, TokenRuleError, type Audience } from './issuers';
import type { SigningKey, TrustedKey } from './keys';
import type { Caller } from './roles';

export type TokenVerifier = (token: string) => Promise<Caller>;

const ALGORITHM = 'EdDSA';
/** Our tokens are a few hundred bytes; anything far larger is refused before it is parsed. */
const MAX_TOKEN_BYTES = 4096;

export interface IssueOptions {
  ttlSeconds?: number;
  /** Seconds since the epoch; tests move the clock. */
  nowSeconds?: number;
}

/** A token for `caller`, addressed to one service, signed with the issuer's own key. */
export async function issueToken(signer: SigningKey, caller: Caller, audience: Audience, options: IssueOptions = {}): Promise<string> {
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  return new SignJWT({ role: caller.role })
    .setProtectedHeader({ alg: ALGORITHM, kid: signer.kid, typ: 'JWT' })
    .setIssuer(signer.issuer)
    .setSubject(caller.id)
    .setAudience(audience)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.ttlSeconds ?? TOKEN_TTL_SECONDS))
    .sign(signer.key);
}

/** A caller's bearer token for one service, issued once and re-issued at half its life. */
export function tokenSource(signer: SigningKey, caller: Caller, audience: Audience, ttlSeconds = TOKEN_TTL_SECONDS): () => Promise<string> {
  let cached: { token: Promise<string>; renewAt: number } | undefined;
  return () => {
    if (!cached || cached.renewAt <= Date.now()) {
      const token = issueToken(signer, caller, audience, { ttlSeconds });
      cached = { token, renewAt: Date.now() + (ttlSeconds * 1000) / 2 };
      token.catch(() => (cached = undefined));
    }
    return cached.token;
  };
}

/** The service's own token for calls to `audience`: `sub` and `iss` are its name, role `service`. */
export function serviceTokenSource(signer: SigningKey, audience: Audience, ttlSeconds = TOKEN_TTL_SECONDS): () => Promise<string> {
  return tokenSource(signer, { id: signer.issuer, role: 'service' }, audience, ttlSeconds);
}

/** Verifies tokens addressed to `audience` against the trusted public keys only. */
const VERIFIED_TOKENS_KEPT = 10_000;

export function createTokenVerifier(options: { keys: readonly TrustedKey[]; audience: Audience; now?: () => number }): TokenVerifier {
  const byKid = new Map(options.keys.map((k) => [k.kid, k]));
  const now = options.now ?? Date.now;
  // A desk sends the same token with every call; its signature is checked once. The claims
  // (expiry, audience, role) are still checked on every call.
  const verified = new Map<string, Record<string, unknown>>();
  return async (token) => {
    try {
      if (token.length > MAX_TOKEN_BYTES) throw new TokenRuleError('unauthenticated', `token is longer than ${MAX_TOKEN_BYTES} bytes`);
      const header = protectedHeader(token);
      if (header.alg !== ALGORITHM)
        throw new TokenRuleError('unauthenticated', `token is signed with ${String(header.alg).slice(0, 20)}; only ${ALGORITHM} is accepted`);
      const trusted = typeof header.kid === 'string' ? byKid.get(header.kid) : undefined;
      if (!trusted) throw new TokenRuleError('unauthenticated', 'token is signed with a key this service does not trust');
      let payload = verified.get(token);
      if (!payload) {
        payload = await signedPayload(token, trusted);
        verified.set(token, payload);
        if (verified.size > VERIFIED_TOKENS_KEPT) verified.delete(verified.keys().next().value as string);
      }
      return callerFromClaims(payload, { keyIssuer: trusted.issuer, audience: options.audience, nowSeconds: Math.floor(now() / 1000) });
    } catch (err) {
      if (err instanceof TokenRuleError) throw new AuthError(err.kind, `invalid token: ${err.message}`);
      throw err;
    }
  };
}

function protectedHeader(token: string): ReturnType<typeof decodeProtectedHeader> {
  try {
    return decodeProtectedHeader(token);
  } catch {
    throw new TokenRuleError('unauthenticated', 'token is not a JWT');
  }
}

async function signedPayload(token: string, trusted: TrustedKey): Promise<Record<string, unknown>> {
  let bytes: Uint8Array;
  try {
    ({ payload: bytes } = await compactVerify(token, trusted.key, { algorithms: [ALGORITHM] }));
  } catch {
    throw new TokenRuleError('unauthenticated', `token signature does not verify with ${trusted.issuer}'s key`);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new TokenRuleError('unauthenticated', 'token claims are not JSON');
  }
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw new TokenRuleError('unauthenticated', 'token claims are not an object');
  return payload as Record<string, unknown>;
}
