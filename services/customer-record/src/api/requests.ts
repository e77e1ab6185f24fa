// The shape checks of the calls' fields; a field that fails one is INVALID_ARGUMENT, named.
import { InvalidArgumentError } from '#libs/service';
import { InvalidIdentityError, normaliseIdentity } from '#libs/contact';

const ID = /^[A-Za-z0-9_.:@-]{1,128}$/;

export function requireId(value: string, field: string): string {
  if (!value) throw new InvalidArgumentError(`${field} is required`);
  if (!ID.test(value)) throw new InvalidArgumentError(`${field} must be 1-128 letters, digits or _.:@-`);
  return value;
}

export function optionalId(value: string, field: string): string {
  return value ? requireId(value, field) : '';
}

export function pageSize(value: number, dflt: number, max: number, field = 'page_size'): number {
  if (value === 0) return dflt;
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new InvalidArgumentError(`${field} must be between 1 and ${max} (0 means ${dflt}); got ${value}`);
  return value;
}

export function checkReason(reason: string): string {
  if (reason.length > 500) throw new InvalidArgumentError('reason is longer than 500 characters');
  return reason;
}

export function identity(value: Parameters<typeof normaliseIdentity>[0], defaultCountry: string) {
  try {
    return normaliseIdentity(value, defaultCountry);
  } catch (err) {
    if (err instanceof InvalidIdentityError) throw new InvalidArgumentError(`identity: ${err.message}`);
    throw err;
  }
}

/** A data-protection request names its reference (the request's number, say): it is audited. */
export function requestReason(reason: string): string {
  const trimmed = checkReason(reason).trim();
  if (trimmed.length < 3) throw new InvalidArgumentError('reason is required: the data-protection request this is for (3-500 characters)');
  return trimmed;
}

/** The conversation id and reason of a read, checked for shape; the rules come in the guard. */
export function scopeOf(req: { conversationId: string; reason: string }) {
  const reason = checkReason(req.reason);
  return { conversationId: optionalId(req.conversationId, 'conversation_id'), reason };
}
