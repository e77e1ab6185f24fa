// The widget protocol: JSON frames over one WebSocket. Everything the browser sends is
// validated here before anything else looks at it.
import { z } from 'zod';

/** WebSocket close codes used by the service (RFC 6455 section 7.4.1). */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
} as const;

const clientMessageId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'clientMessageId must be 1-64 letters, digits, _ or -');
/** Control characters other than tab and newline are dropped from text before it goes anywhere. */
const cleanText = (max: number) =>
  z
    .string()
    .transform((s) => s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '').trim())
    .pipe(z.string().min(1, 'text is empty').max(max, `text is longer than ${max} characters`));

const helloFrame = z.object({
  type: z.literal('hello'),
  /** Absent for a new visitor. */
  token: z.string().max(1024).optional(),
  /** The last message number the browser saw; the server replays everything after it. */
  lastSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  name: z.string().trim().max(100).optional(),
  email: z.string().trim().max(254).optional(),
  phone: z.string().trim().max(32).optional(),
});

/** An address to prove: asking for a code is refused outright for anything but a plausible email. */
const verifyAddress = z
  .string()
  .trim()
  .max(254, 'email is longer than 254 characters')
  .transform((s) => s.toLowerCase())
  .pipe(z.email('email is not a valid email address'));
/** Six digits; spaces and dashes a visitor types between them are ignored. */
const typedCode = z
  .string()
  .max(32, 'code is longer than 32 characters')
  .transform((s) => s.replace(/[\s-]/g, ''))
  .pipe(z.string().regex(/^\d{6}$/, 'code must be the 6 digits from the mail'));

const clientFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message'), clientMessageId, text: cleanText(4000) }),
  z.object({
    type: z.literal('profile'),
    name: z.string().trim().max(100).optional(),
    email: z.string().trim().max(254).optional(),
    phone: z.string().trim().max(32).optional(),
  }),
  z.object({ type: z.literal('verify-email'), email: verifyAddress }),
  z.object({ type: z.literal('verify-code'), code: typedCode }),
  z.object({ type: z.literal('typing') }),
  z.object({ type: z.literal('survey-answer'), score: z.number().int().min(1).max(5), comment: z.string().trim().max(1000).optional() }),
  z.object({ type: z.literal('ping') }),
]);

export type HelloFrame = z.output<typeof helloFrame>;
export type ClientFrame = z.output<typeof clientFrame>;

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new FrameError('frame is not valid JSON');
  }
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

export function parseHello(raw: string): HelloFrame {
  const result = helloFrame.safeParse(parseJson(raw));
  if (!result.success) throw new FrameError(`first frame must be a valid hello: ${describe(result.error)}`);
  return result.data;
}

export function parseClientFrame(raw: string): ClientFrame {
  const result = clientFrame.safeParse(parseJson(raw));
  if (!result.success) throw new FrameError(describe(result.error));
  return result.data;
}

export interface VisitorProfile {
  name?: string;
  email?: string;
  phone?: string;
}

/**
 * What the visitor typed about themselves, cleaned: a plausible email (lower-cased), a phone
 * number as typed (digits, spaces, +, -, brackets) and a display name. These are claims, never
 * identities: anybody can type anybody's address.
 */
export function profileClaims(profile: VisitorProfile): VisitorProfile {
  const out: VisitorProfile = {};
  const name = profile.name?.replace(/[\u0000-\u001F\u007F]/g, '').trim();
  if (name) out.name = name;
  const email = profile.email?.trim().toLowerCase();
  if (email && z.email().safeParse(email).success) out.email = email;
  const phone = profile.phone?.trim();
  if (phone && /^\+?[0-9][0-9 ()-]{3,30}$/.test(phone)) out.phone = phone;
  return out;
}

export type ErrorCode = 'not-accepted' | 'invalid-frame' | 'internal' | 'verification-limit' | 'no-code' | 'code-expired' | 'code-wrong' | 'too-many-tries';

/** Frames the server sends; `seq` numbers the conversation's messages in both directions. */
export type ServerFrame =
  | { type: 'welcome'; token: string; conversationId: string; reference: string; resumed: boolean; lastSeq: number }
  | { type: 'ack'; clientMessageId: string; seq: number }
  | { type: 'error'; code: ErrorCode; message: string; clientMessageId?: string; retryAfterMs?: number; triesLeft?: number }
  | { type: 'verification-sent'; email: string; expiresInMs: number }
  | { type: 'verified'; email: string }
  | ChatEntry
  | { type: 'typing'; agentName?: string }
  | { type: 'wait'; position: number | null; estimatedWaitMs: number; source: 'routing' | 'target'; closed?: ClosedQueue }
  | { type: 'survey-ack' }
  | { type: 'pong' };

/** A numbered entry of the conversation, kept for resume. */
export interface ChatEntry {
  type: 'entry';
  seq: number;
  from: 'visitor' | 'agent' | 'system';
  kind: 'message' | 'agent-joined' | 'transfer' | 'ended' | 'survey' | 'notice';
  text: string;
  clientMessageId?: string;
  at: string;
}

/**
 * The queue is closed (routing's calendar): what the visitor is told, the weekly hours, and the
 * address they may write to instead (CHAT_CLOSED_EMAIL_ADDRESS), so the conversation can go on by email.
 */
export interface ClosedQueue {
  until: string;
  notice: string;
  hours: string;
  email?: string;
}
