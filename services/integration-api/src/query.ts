// Query parameters every list and read shares: each given at most once, checked against a zod
// schema (limit, cursor, customer id, a reason), and cursors as opaque base64url text.
import { z } from 'zod';
import { chars } from './contact-request';
import { InvalidRequestError } from './problems';
import type { ApiRequest } from './route-types';
import { zodProblem } from './validation';

export const CUSTOMER_ID = /^[A-Za-z0-9_.:@-]{1,128}$/;
// At least one character that is not a space, as openapi.json says.
const REASON = /^[^\x00-\x1f\x7f]*[^\x00-\x20\x7f][^\x00-\x1f\x7f]*$/;

export const limit = (max: number, dflt: number) =>
  z
    .string()
    .regex(/^[0-9]{1,3}$/, `limit: a whole number 1-${max}`)
    .transform(Number)
    .pipe(z.number().min(1, `limit: a whole number 1-${max}`).max(max, `limit: a whole number 1-${max}`))
    .default(dflt);

export const cursor = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,200}$/, 'cursor: a value from nextCursor')
  .optional();

/** Why customer data is read, kept in the audit trails: `what` names what is read. */
export const reason = (what: string) =>
  chars(500, REASON, 'reason: plain text on one line').refine((r) => [...r].length >= 3, `reason: say in a few words why ${what} (3-500 characters)`);

export function queryOf<T>(schema: z.ZodType<T>, request: ApiRequest): T {
  const fields: Record<string, string> = {};
  for (const [name, value] of request.query) {
    if (name in fields) throw new InvalidRequestError(`query parameter ${name} is given more than once`);
    fields[name] = value;
  }
  const parsed = schema.safeParse(fields);
  if (!parsed.success) throw zodProblem(parsed.error);
  return parsed.data;
}

export const encodeCursor = (text: string) => Buffer.from(text).toString('base64url');
export const decodeCursor = (c: string) => Buffer.from(c, 'base64url').toString('utf8');
