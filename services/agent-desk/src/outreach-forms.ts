// The forms of writing first to customers, checked at the edge: a person's message to the
// customer of a conversation they hold or held (by email, SMS, or WhatsApp with an approved
// template or free-form), and a supervisor's notice to a list.
import { z } from 'zod';

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
const PHONE = /^\+[1-9]\d{6,14}$/;
const channel = z.enum(['email', 'sms'], { message: 'channel must be email or sms' });
const skill = z
  .union([
    z.literal(''),
    z
      .string()
      .trim()
      .regex(/^[a-z0-9_-]{1,40}$/, 'skill must be lower-case letters, digits, _ or -'),
  ])
  .default('');
const subject = z.string().trim().max(500, 'the subject is longer than 500 characters').default('');
const text = z.string({ message: 'text is required' }).trim().min(1, 'the message is empty').max(10_000, 'the message is longer than 10,000 characters');
/** Chosen by the page for each send, so a retry of the same send is the same conversation. */
const requestId = z.string({ message: 'requestId is required' }).regex(/^[A-Za-z0-9-]{8,64}$/, 'requestId must be 8-64 letters, digits or -');

function checkSms(b: { channel: string; subject: string; text: string }, ctx: z.RefinementCtx): void {
  if (b.channel !== 'sms' && b.channel !== 'whatsapp') return;
  const what = b.channel === 'sms' ? 'an SMS' : 'a WhatsApp message';
  if (b.subject) ctx.addIssue({ code: 'custom', path: ['subject'], message: `subject: ${what} has none` });
  if (b.text.length > 1600) ctx.addIssue({ code: 'custom', path: ['text'], message: `text: ${what} is at most 1,600 characters` });
}

/** A WhatsApp write is a template with its variables, or free text (for a customer who wrote within 24 hours); an email or SMS is text. */
function checkContent(b: { channel: string; text: string; template: string; variables: string[] }, ctx: z.RefinementCtx): void {
  if (b.channel !== 'whatsapp' && (b.template || b.variables.length))
    ctx.addIssue({ code: 'custom', path: ['template'], message: 'template: only a WhatsApp message is sent as a template' });
  else if (b.template && b.text) ctx.addIssue({ code: 'custom', path: ['text'], message: 'text: a template brings its own text; fill its variables instead' });
  else if (!b.template && !b.text) ctx.addIssue({ code: 'custom', path: ['text'], message: 'the message is empty' });
}

export const outreachForms = {
  start: z
    .object({
      /** The conversation whose customer is written to: the person must hold it, or have held it lately. */
      fromConversationId: z.string({ message: 'fromConversationId is required' }).trim().min(1, 'fromConversationId is required').max(200),
      channel: z.enum(['email', 'sms', 'whatsapp'], { message: 'channel must be email, sms or whatsapp' }),
      to: z.string({ message: 'to is required' }).trim().max(320, 'to is longer than 320 characters'),
      subject,
      text: z.string().trim().max(10_000, 'the message is longer than 10,000 characters').default(''),
      /** On WhatsApp: the approved template's name, and its variables in order. */
      template: z.string().trim().max(64, 'template is longer than 64 characters').default(''),
      variables: z.array(z.string().max(1024, 'a variable is longer than 1,024 characters'), { message: 'variables must be a list' }).max(20).default([]),
      skill,
      requestId,
    })
    .superRefine((b, ctx) => {
      if (b.channel === 'email' && !EMAIL.test(b.to)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'to: an email address such as kim@example.org' });
      if (b.channel !== 'email' && !PHONE.test(b.to))
        ctx.addIssue({ code: 'custom', path: ['to'], message: 'to: a number in E.164 form such as +14155550100' });
      checkSms(b, ctx);
      checkContent(b, ctx);
    }),
  /** Where a person's write stands: the page's id of that write. */
  delivery: z.object({ requestId }),
  notice: z
    .object({
      noticeId: z.string({ message: 'noticeId is required' }).regex(/^[A-Za-z0-9-]{1,40}$/, 'noticeId must be 1-40 letters, digits or -'),
      channel,
      customerIds: z
        .array(z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'each customer id must be 1-100 letters, digits or _.:-'), {
          message: 'customerIds must be a list',
        })
        .min(1, 'name at least one customer'),
      subject,
      text,
      skill,
    })
    .superRefine(checkSms),
};
