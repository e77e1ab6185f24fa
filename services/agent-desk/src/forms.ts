// What the browser may send, checked at the edge with a specific message for each problem.
import { z } from 'zod';
import { BadRequestError, signInForm } from '#libs/web';

/** A form the browser sent that the desk cannot take: answered 400 with this sentence. */
export class FormError extends BadRequestError {}

const conversationId = z.string({ message: 'conversationId is required' }).trim().min(1, 'conversationId is required').max(200, 'conversationId is too long');
const agentId = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, 'agent id must be 2-64 characters of a-z, 0-9, dot, dash, underscore');

export const forms = {
  signIn: signInForm,
  presence: z.object({ presence: z.enum(['available', 'away', 'offline'], { message: 'presence must be available, away or offline' }) }),
  conversation: z.object({ conversationId }),
  reply: z.object({
    conversationId,
    text: z.string({ message: 'text is required' }).trim().min(1, 'the reply is empty').max(10_000, 'the reply is longer than 10,000 characters'),
    subject: z.string().trim().max(500, 'the subject is longer than 500 characters').default(''),
    // Files kept at the email service by /api/reply-file; routing checks them again.
    attachments: z
      .array(
        z.object({
          name: z.string().min(1).max(255),
          contentType: z.string().min(1).max(100),
          sizeBytes: z.number().int().positive(),
          sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lower-case hex digits'),
          storageRef: z.string().regex(/^email-attachment:[0-9a-f]{64}$/, 'a reply carries only files kept by /api/reply-file'),
        }),
      )
      .max(10, 'at most 10 files on one reply')
      .default([]),
  }),
  escalate: z.object({
    conversationId,
    note: z.string({ message: 'note is required' }).trim().min(1, 'write a note for the expert').max(2000, 'the note is longer than 2,000 characters'),
    skill: z
      .union([
        z.literal(''),
        z
          .string()
          .trim()
          .regex(/^[a-z0-9_-]{1,40}$/, 'skill must be lower-case letters, digits, _ or -'),
      ])
      .default(''),
  }),
  transfer: z
    .object({
      conversationId,
      toAgentId: z.union([z.literal(''), agentId]).default(''),
      // Routing's own forms: a skill, tier1/<skill>, tier2/<skill>, optionally with the channel.
      toQueue: z
        .union([
          z.literal(''),
          z
            .string()
            .trim()
            .regex(
              /^(tier[12]\/)?[a-z0-9_-]{1,64}(\/(voice|chat|sms|email|api|whatsapp))?$/,
              'queue must look like billing, tier2/billing or tier1/billing/email',
            ),
        ])
        .default(''),
      note: z.string().trim().max(2000, 'the note is longer than 2,000 characters').default(''),
    })
    .refine((t) => Boolean(t.toAgentId) !== Boolean(t.toQueue), 'give either an agent or a queue to transfer to, not both'),
  handBack: z.object({ conversationId, note: z.string().trim().max(2000, 'the note is longer than 2,000 characters').default('') }),
  resolve: z.object({
    conversationId,
    disposition: z
      .string({ message: 'disposition is required' })
      .trim()
      .min(1, 'choose a disposition')
      .max(200, 'the disposition is longer than 200 characters'),
  }),
  reassign: z.object({ conversationId, toAgentId: agentId }),
  // Routing checks the rest (the date in the future, the currency's code) and says why it refuses.
  promise: z.union([
    z.object({ conversationId, kept: z.literal(true) }),
    z
      .object({
        conversationId,
        milestone: z
          .string({ message: 'milestone is required' })
          .trim()
          .min(1, 'say what the next step is')
          .max(200, 'the milestone is longer than 200 characters'),
        dueAt: z.string({ message: 'dueAt is required' }).refine((s) => !Number.isNaN(Date.parse(s)), 'dueAt is not a date'),
        cost: z
          .string()
          .trim()
          .regex(/^(\d{1,9}(\.\d{1,3})?)?$/, 'the cost must be an amount such as 120.50')
          .default(''),
        currency: z
          .string()
          .trim()
          .regex(/^([A-Za-z]{3})?$/, 'the currency must be a three-letter code such as EUR')
          .default(''),
      })
      .refine((p) => Boolean(p.cost) === Boolean(p.currency), 'give both the cost and its currency, or neither'),
  ]),
  // Routing parses the calendars and names each problem; the desk only bounds the size.
  calendars: z.object({
    calendarsJson: z
      .string({ message: 'calendarsJson is required' })
      .trim()
      .min(2, 'give the calendars as a JSON object')
      .max(100_000, 'the calendars are longer than 100,000 characters'),
  }),
};

/** An amount the person typed ("120.50") in the currency's minor units, or a FormError. */
export function minorUnits(amount: string, currency: string): number {
  if (!amount) return 0;
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() }).resolvedOptions().maximumFractionDigits ?? 2;
  const [whole = '0', fraction = ''] = amount.split('.');
  if (fraction.length > digits) throw new FormError(`a cost in ${currency.toUpperCase()} has at most ${digits} decimals`);
  return Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0');
}

/** Parses a JSON body against one of the forms; throws FormError naming the first problem. */
export function parseForm<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length ? `${issue.path.join('.')}: ` : '';
  throw new FormError(issue.message.includes(String(issue.path[0] ?? '\u0000')) ? issue.message : `${field}${issue.message}`);
}

/** Whose record a conversation view reads: the customer id, or while routing had none, the identity. */
export type CustomerRef = { customerId: string } | { identity: { kind: number; value: string; namespace: string } };

export function customerRef(params: URLSearchParams): CustomerRef {
  const customerId = params.get('customerId') ?? '';
  if (customerId) {
    if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(customerId)) throw new FormError('customerId is not a customer id');
    return { customerId };
  }
  const kind = Number(params.get('identityKind'));
  const value = params.get('identity') ?? '';
  const namespace = params.get('identityNamespace') ?? '';
  if (!Number.isInteger(kind) || kind < 1 || kind > 4) throw new FormError('give a customerId, or an identityKind (1-4) with an identity');
  if (!value || value.length > 320) throw new FormError('identity must be 1-320 characters');
  if (namespace.length > 100) throw new FormError('identityNamespace is longer than 100 characters');
  return { identity: { kind, value, namespace } };
}

/** A supervisor reads a customer only with a reason, which customer-record writes to its audit log. */
export function supervisorReason(value: string | null): string {
  const reason = (value ?? '').trim();
  if (!reason) throw new BadRequestError('give a reason for reading this customer; it is written to the audit log');
  if (reason.length < 3) throw new BadRequestError('the reason is too short: say in a few words why you read this customer');
  if (reason.length > 500) throw new BadRequestError('the reason is longer than 500 characters');
  if (/[\u0000-\u001f\u007f]/.test(reason)) throw new BadRequestError('the reason must be plain text on one line');
  return reason;
}
