// Visitor tokens: who the visitor is and which conversation they are in, signed with HMAC-SHA256
// so a browser can keep it and present it again on reconnect, but never forge or alter it.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface VisitorClaims {
  /** Visitor id, stable for the browser. */
  visitorId: string;
  conversationId: string;
  /** Short reference the visitor can quote. */
  reference: string;
  /** Issued at, seconds since the epoch. */
  iat: number;
  /** Expires at, seconds since the epoch. */
  exp: number;
}

export class InvalidTokenError extends Error {
  constructor(readonly reason: 'malformed' | 'bad-signature' | 'expired') {
    super(`visitor token refused: ${reason}`);
    this.name = 'InvalidTokenError';
  }
}

const ID = /^[A-Za-z0-9_-]{8,64}$/;
const REF = /^[A-Z0-9]{4,12}$/;

function sign(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('base64url');
}

export function issueVisitorToken(secret: string, claims: Omit<VisitorClaims, 'iat' | 'exp'>, ttlSeconds: number, nowMs = Date.now()): string {
  const iat = Math.floor(nowMs / 1000);
  const body = Buffer.from(JSON.stringify({ v: claims.visitorId, c: claims.conversationId, r: claims.reference, iat, exp: iat + ttlSeconds })).toString(
    'base64url',
  );
  return `${body}.${sign(secret, body)}`;
}

export function verifyVisitorToken(secret: string, token: unknown, nowMs = Date.now()): VisitorClaims {
  if (typeof token !== 'string' || token.length > 1024) throw new InvalidTokenError('malformed');
  const parts = token.split('.');
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw new InvalidTokenError('malformed');
  const [body, signature] = parts as [string, string];
  const expected = Buffer.from(sign(secret, body));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new InvalidTokenError('bad-signature');
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidTokenError('malformed');
  }
  const c = raw as Record<string, unknown>;
  if (
    typeof c !== 'object' ||
    c === null ||
    typeof c.v !== 'string' ||
    !ID.test(c.v) ||
    typeof c.c !== 'string' ||
    !ID.test(c.c) ||
    typeof c.r !== 'string' ||
    !REF.test(c.r) ||
    typeof c.iat !== 'number' ||
    typeof c.exp !== 'number'
  ) {
    throw new InvalidTokenError('malformed');
  }
  if (c.exp * 1000 <= nowMs) throw new InvalidTokenError('expired');
  return { visitorId: c.v, conversationId: c.c, reference: c.r, iat: c.iat, exp: c.exp };
}
