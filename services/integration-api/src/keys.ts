// API keys with no I/O: what a key looks like, how it is kept (hashed) and checked, and the
// scopes it may carry. A key is `cck_<id>_<secret>`: the id finds the record, the secret is 32
// random bytes kept only as its SHA-256. A secret that long cannot be guessed, so a fast hash is
// enough (a password needs scrypt because people choose guessable ones); every request checks
// one, and scrypt's tens of milliseconds per request would be the API's whole latency budget.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const SCOPES = [
  'contacts:write',
  'customers:read',
  'queues:read',
  'conversations:read',
  'conversations:read-texts',
  'conversations:write',
  'conversations:manage',
  'conversations:start',
  'webhooks:manage',
] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

const KEY_PATTERN = /^cck_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface IssuedKey {
  id: string;
  /** Shown once, to the supervisor who made it; never stored. */
  key: string;
  secretHash: string;
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

export function issueKey(): IssuedKey {
  const id = [...randomBytes(12)].map((b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');
  const secret = randomBytes(32).toString('base64url');
  return { id, key: `cck_${id}_${secret}`, secretHash: hashSecret(secret) };
}

/** The id and secret of a presented key, or undefined when it is not shaped as one. */
export function parseKey(presented: string): { id: string; secret: string } | undefined {
  const m = KEY_PATTERN.exec(presented);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** True when the secret is the one whose hash was stored (compared in constant time). */
export function secretMatches(secret: string, storedHash: string): boolean {
  const given = Buffer.from(hashSecret(secret));
  const stored = Buffer.from(storedHash);
  return given.length === stored.length && timingSafeEqual(given, stored);
}

/** `Authorization: Bearer cck_…`; undefined when absent or another scheme. */
export function bearerKey(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
}
