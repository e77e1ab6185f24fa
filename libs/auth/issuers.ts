// Who may mint what: each issuer signs with a key of its own, and a verifier accepts from that
// key only the roles its issuer is entitled to. Pure rules over a token's claims; signatures are
// checked in tokens.ts before these run.
import { ROLES, type Caller, type Role } from './roles';

/** The services a token may be addressed to (`aud`): the ones that verify tokens. */
export const AUDIENCES = ['customer-record', 'routing', 'sms-voice', 'email', 'chat'] as const;
export type Audience = (typeof AUDIENCES)[number];

export interface IssuerPolicy {
  /** Roles of people this issuer signs tokens for (any `sub`: the person signed in). */
  staff: readonly Role[];
  /** Audiences this issuer calls as itself: role `service`, `sub` = the issuer's own name. */
  serviceCalls: readonly Audience[];
}

export const ISSUERS = {
  // The desk signs for the agent, expert or supervisor signed in (to sms-voice too, for call
  // controls, and to email and chat for the files customer-record let them open); it makes no
  // calls of its own.
  'agent-desk': { staff: ['agent', 'expert', 'supervisor'], serviceCalls: [] },
  // The console signs for ops and supervisors, and calls routing's queue statistics itself.
  'ops-console': { staff: ['ops', 'supervisor'], serviceCalls: ['routing'] },
  // Routing looks customers up in customer-record.
  routing: { staff: [], serviceCalls: ['customer-record'] },
  // sms-voice (internet-facing) asks routing for callers' wait estimates, nothing else.
  'sms-voice': { staff: [], serviceCalls: ['routing'] },
  // The integration API reads queue figures from routing and customers from customer-record for API keys.
  'integration-api': { staff: [], serviceCalls: ['customer-record', 'routing'] },
} as const satisfies Record<string, IssuerPolicy>;

export type IssuerName = keyof typeof ISSUERS;
export const ISSUER_NAMES = Object.keys(ISSUERS) as IssuerName[];

export function isIssuer(name: string): name is IssuerName {
  return Object.hasOwn(ISSUERS, name);
}

/** Tokens are minted for this long and renewed at half their life. */
export const TOKEN_TTL_SECONDS = 600;
/** A verifier refuses a token whose `exp - iat` is longer: a stolen token is good for 15 min at most. */
export const MAX_TOKEN_LIFETIME_SECONDS = 900;
/** Clocks of two hosts may differ this much. */
const CLOCK_TOLERANCE_SECONDS = 30;

export class TokenRuleError extends Error {
  constructor(
    readonly kind: 'unauthenticated' | 'permission_denied',
    message: string,
  ) {
    super(message);
    this.name = 'TokenRuleError';
  }
}

/** What the signature check established: which issuer's key signed, for which service, when. */
export interface ClaimContext {
  /** The issuer the verifying key is bound to. */
  keyIssuer: IssuerName;
  audience: Audience;
  nowSeconds: number;
}

/** Checks a signed token's claims against its key's issuer; the caller it names, or TokenRuleError. */
export function callerFromClaims(claims: Record<string, unknown>, context: ClaimContext): Caller {
  const refuse = (message: string) => new TokenRuleError('unauthenticated', message);
  const { keyIssuer, audience, nowSeconds } = context;
  if (claims.iss !== keyIssuer) throw refuse(`token names issuer ${describe(claims.iss)} but is signed with ${keyIssuer}'s key`);
  checkAudience(claims.aud, audience);
  checkTimes(claims.iat, claims.exp, claims.nbf, nowSeconds);
  const sub = claims.sub;
  if (typeof sub !== 'string' || !/^[A-Za-z0-9_.@+-]{1,200}$/.test(sub)) throw refuse('token has no valid subject (sub)');
  const role = claims.role;
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) throw refuse('token has no valid role');
  checkEntitlement(keyIssuer, sub, role as Role, audience);
  return { id: sub, role: role as Role };
}

function checkAudience(aud: unknown, audience: Audience): void {
  // Exactly one audience: a token addressed to two services could be replayed by either at the other.
  const single = Array.isArray(aud) && aud.length === 1 ? aud[0] : aud;
  if (single === undefined) throw new TokenRuleError('unauthenticated', `token has no audience (aud); this is ${audience}`);
  if (single !== audience) throw new TokenRuleError('unauthenticated', `token is for ${describe(aud)}, not for ${audience}`);
}

function checkTimes(iat: unknown, exp: unknown, nbf: unknown, now: number): void {
  const refuse = (message: string) => new TokenRuleError('unauthenticated', message);
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw refuse('token has no expiry (exp)');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw refuse('token has no issue time (iat)');
  if (iat > now + CLOCK_TOLERANCE_SECONDS) throw refuse('token is issued in the future (iat)');
  if (exp <= iat) throw refuse('token expires before it is issued');
  if (exp - iat > MAX_TOKEN_LIFETIME_SECONDS) throw refuse(`token lives ${exp - iat} s, longer than the ${MAX_TOKEN_LIFETIME_SECONDS} s allowed`);
  if (exp <= now - CLOCK_TOLERANCE_SECONDS) throw refuse('token has expired');
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + CLOCK_TOLERANCE_SECONDS)) throw refuse('token is not valid yet (nbf)');
}

function checkEntitlement(issuer: IssuerName, sub: string, role: Role, audience: Audience): void {
  const policy: IssuerPolicy = ISSUERS[issuer];
  const deny = (message: string) => new TokenRuleError('permission_denied', message);
  if (role === 'service') {
    if (sub !== issuer) throw deny(`${issuer} may mint a service token only for itself, not for ${sub}`);
    if (!policy.serviceCalls.includes(audience)) throw deny(`${issuer} may not call ${audience} as a service`);
    return;
  }
  if (!policy.staff.includes(role)) throw deny(`${issuer} may not mint tokens with role ${role}`);
}

/** A claim as it may appear in an error, cut short: it comes from whoever sent the token. */
function describe(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'nothing');
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
