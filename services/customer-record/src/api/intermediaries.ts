// A supervisor's registry of intermediaries and their mandates. Every field is checked before
// anything is stored; unknown intermediaries and customers are NOT_FOUND. Each change is audited.
import type { Caller } from '#libs/auth';
import type {
  GrantMandateRequest,
  GrantMandateResponse,
  RevokeMandateRequest,
  RevokeMandateResponse,
  UpsertIntermediaryRequest,
  UpsertIntermediaryResponse,
} from '#libs/proto';
import { InvalidArgumentError } from '#libs/service';
import { checkAuthority, checkExpiry, checkKind, intermediaryIdentity, InvalidMandateError, MAX_INTERMEDIARY_IDENTITIES } from '../mandates';
import { audited } from './answers';
import type { ApiDeps } from './deps';
import { checkReason, requireId } from './requests';
import { toIntermediary } from './wire';

/** The pure checks' refusals are the caller's mistakes: INVALID_ARGUMENT. */
function checked<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof InvalidMandateError) throw new InvalidArgumentError(err.message, { cause: err });
    throw err;
  }
}

export async function upsertIntermediary(deps: ApiDeps, req: UpsertIntermediaryRequest, caller: Caller): Promise<UpsertIntermediaryResponse> {
  const i = req.intermediary;
  if (!i) throw new InvalidArgumentError('intermediary is required');
  const id = requireId(i.intermediaryId, 'intermediary.intermediary_id');
  const name = i.name.trim();
  if (!name || name.length > 200) throw new InvalidArgumentError('intermediary.name must be 1-200 characters');
  const kind = checked(() => checkKind(i.kind));
  if (!i.identities.length || i.identities.length > MAX_INTERMEDIARY_IDENTITIES)
    throw new InvalidArgumentError(`intermediary.identities must list 1-${MAX_INTERMEDIARY_IDENTITIES} identities`);
  const identities = checked(() => i.identities.map((x) => intermediaryIdentity(x, deps.defaultCountry)));
  checkReason(req.reason);
  const saved = await deps.intermediaries.upsert({ _id: id, name, kind, identities });
  await audited(deps, caller, 'UpsertIntermediary', '', '', req.reason);
  return { intermediary: toIntermediary(saved) };
}

export async function grantMandate(deps: ApiDeps, req: GrantMandateRequest, caller: Caller): Promise<GrantMandateResponse> {
  const intermediaryId = requireId(req.intermediaryId, 'intermediary_id');
  const customerId = requireId(req.customerId, 'customer_id');
  const now = new Date();
  const authority = checked(() => checkAuthority(req.authority));
  const expiresAt = checked(() => checkExpiry(req.expiresAt, now));
  checkReason(req.reason);
  const saved = await deps.intermediaries.grant(intermediaryId, customerId, { authority, expiresAt }, caller, now);
  await audited(deps, caller, 'GrantMandate', customerId, '', req.reason);
  return { intermediary: toIntermediary(saved) };
}

export async function revokeMandate(deps: ApiDeps, req: RevokeMandateRequest, caller: Caller): Promise<RevokeMandateResponse> {
  const intermediaryId = requireId(req.intermediaryId, 'intermediary_id');
  const customerId = requireId(req.customerId, 'customer_id');
  checkReason(req.reason);
  const saved = await deps.intermediaries.revoke(intermediaryId, customerId, new Date());
  await audited(deps, caller, 'RevokeMandate', customerId, '', req.reason);
  return { intermediary: toIntermediary(saved) };
}
