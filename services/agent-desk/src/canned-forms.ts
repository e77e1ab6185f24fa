// What the browser may send about canned answers, checked at the edge: the form first, then the
// template itself (placeholders, SMS length), each problem answered with its own sentence.
import { z } from 'zod';
import { CANNED_CHANNELS, CANNED_LIMITS, CannedTemplateError, checkTemplate, type CannedChannel } from './canned';
import { FormError } from './forms';

const conversationId = z.string({ message: 'conversationId is required' }).trim().min(1, 'conversationId is required').max(200, 'conversationId is too long');
const answerId = z.string({ message: 'id is required' }).regex(/^ca-[0-9a-f-]{36}$/, 'id is not a canned answer id');
const noControl = (s: string) => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(s);

const answer = z.object({
  name: z
    .string({ message: 'name is required' })
    .trim()
    .min(1, 'give the canned answer a name')
    .max(CANNED_LIMITS.nameChars, `the name is longer than ${CANNED_LIMITS.nameChars} characters`)
    .refine((s) => noControl(s) && !s.includes('\n'), 'the name must be plain text on one line'),
  text: z
    .string({ message: 'text is required' })
    .trim()
    .min(1, 'the canned answer is empty')
    .max(CANNED_LIMITS.textChars, `the text is longer than ${CANNED_LIMITS.textChars.toLocaleString('en')} characters`)
    .refine(noControl, 'the text must be plain text (no control characters)'),
  channels: z
    .array(z.enum(CANNED_CHANNELS, { message: `a channel must be one of ${CANNED_CHANNELS.join(', ')}` }), { message: 'channels must be a list' })
    .min(1, 'choose at least one channel')
    .max(CANNED_CHANNELS.length, 'a channel is named twice')
    .refine((c) => new Set(c).size === c.length, 'a channel is named twice'),
});

export const cannedForms = {
  create: answer.extend({ scope: z.enum(['shared', 'personal'], { message: 'scope must be shared or personal' }) }),
  update: answer.extend({ id: answerId, version: z.number({ message: 'version is required' }).int('version is a whole number').min(1).max(1e9) }),
  remove: z.object({ id: answerId }),
  fill: z.object({
    conversationId,
    channel: z.enum(CANNED_CHANNELS, { message: `channel must be one of ${CANNED_CHANNELS.join(', ')}` }),
    customerName: z.string().max(200, 'customerName is longer than 200 characters').default(''),
    reference: z
      .string()
      .trim()
      .regex(/^[A-Z0-9-]{0,20}$/, 'reference must be letters and digits')
      .default(''),
  }),
};

/** A create or update form with its template checked: unknown placeholders and SMS texts that are too long are refused. */
export function checkedAnswer<F extends { text: string; channels: CannedChannel[] }>(form: F): F {
  try {
    checkTemplate(form.text, form.channels);
  } catch (err) {
    if (err instanceof CannedTemplateError) throw new FormError(`text: ${err.message}`);
    throw err;
  }
  return form;
}
