// Remembers tokens already verified until they expire, so an agent's screen polling the
// context does not pay for a signature check on every call.
import { decodeJwt } from 'jose';
import type { Caller, TokenVerifier } from '#libs/auth';

export function cachingVerifier(verify: TokenVerifier, capacity = 10_000, maxAgeMs = 60_000): TokenVerifier {
  const known = new Map<string, { caller: Caller; until: number }>();
  return async (token) => {
    const hit = known.get(token);
    if (hit && hit.until > Date.now()) return hit.caller;
    known.delete(token);
    const caller = await verify(token);
    const exp = decodeJwt(token).exp;
    const until = Math.min(Date.now() + maxAgeMs, typeof exp === 'number' ? exp * 1000 : 0);
    if (until > Date.now()) {
      if (known.size >= capacity) known.delete(known.keys().next().value as string);
      known.set(token, { caller, until });
    }
    return caller;
  };
}
