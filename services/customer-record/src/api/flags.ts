// A supervisor's settings of what makes a customer VIP, institutional or regular: a flag on the
// customer, or an account and its members.
import type { Caller } from '#libs/auth';
import { customerFlagName } from '#libs/contact';
import type { SetFlagRequest, SetFlagResponse, UpsertAccountRequest, UpsertAccountResponse } from '#libs/proto';
import { InvalidArgumentError } from '#libs/service';
import { audited, withAccount } from './answers';
import type { ApiDeps } from './deps';
import { checkReason, optionalId, requireId } from './requests';
import { toAccount } from './wire';

export async function setFlag(deps: ApiDeps, req: SetFlagRequest, caller: Caller): Promise<SetFlagResponse> {
  const id = requireId(req.customerId, 'customer_id');
  const kind = customerFlagName(req.kind);
  if (!kind) throw new InvalidArgumentError('kind must be FLAG_KIND_REGULAR, FLAG_KIND_VIP or FLAG_KIND_INSTITUTIONAL');
  checkReason(req.reason);
  const customer = await deps.flagSettings.setFlag(id, kind, req.clearOverride ? null : req.on, req.reason, caller);
  await audited(deps, caller, 'SetFlag', id, '', req.reason);
  return { customer: await withAccount(deps, customer, caller) };
}

export async function upsertAccount(deps: ApiDeps, req: UpsertAccountRequest, caller: Caller): Promise<UpsertAccountResponse> {
  const a = req.account;
  if (!a) throw new InvalidArgumentError('account is required');
  const accountId = requireId(a.accountId, 'account.account_id');
  const manager = optionalId(a.managerAgentId, 'account.manager_agent_id');
  if (a.name.length > 200) throw new InvalidArgumentError('account.name is longer than 200 characters');
  if (a.memberCustomerIds.length > 10_000) throw new InvalidArgumentError('an account has at most 10,000 members per call');
  const members = [...new Set(a.memberCustomerIds.map((m) => requireId(m, 'account.member_customer_ids')))];
  const saved = await deps.flagSettings.upsertAccount({
    _id: accountId,
    name: a.name,
    managerAgentId: manager,
    vip: a.vip,
    institutional: a.institutional,
    memberCustomerIds: members,
  });
  await audited(deps, caller, 'UpsertAccount', '');
  return { account: toAccount(saved) };
}
