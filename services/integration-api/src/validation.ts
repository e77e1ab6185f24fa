// A zod failure as the problem the API answers: each wrong field named with what is wrong.
import type { ZodError } from 'zod';
import { InvalidRequestError } from './problems';

export function zodProblem(error: ZodError): InvalidRequestError {
  const errors = error.issues.slice(0, 20).map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
  return new InvalidRequestError(errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
}
