// The data-protection officer finds the customer a request is about: by a verified identity of any
// kind, an email address, a phone number, a chat visitor id or an id of kind OTHER (one read of
// its `identities` row by `_id`, followed through merges), or by the words of a name: the search
// index names the customers whose conversations' senders gave such a name, and each is read by
// `_id` and kept when it is live and its own name holds the words. Claims are never searched: what a
// sender only typed may be someone else's. Every look-up is audited like a read of each customer
// found, and one that finds nobody is audited too, before it is answered.
import type { Caller } from '#libs/auth';
import type { FindCustomersRequest, FindCustomersResponse } from '#libs/proto';
import { byLastContact, foundCustomer, MAX_FOUND, NAME_CANDIDATES, parseLookup, type OfficerLookup } from '../officer-lookup';
import { nameHolds } from '../search/folding';
import type { CustomerDoc } from '../store/records';
import { audited } from './answers';
import type { ApiDeps } from './deps';
import { requestReason } from './requests';

export async function findCustomers(deps: ApiDeps, req: FindCustomersRequest, caller: Caller): Promise<FindCustomersResponse> {
  const lookup = parseLookup(req, deps.defaultCountry);
  const reason = requestReason(req.reason);
  const found = await customersFor(deps, lookup);
  const shown = found.slice(0, MAX_FOUND);
  if (shown.length) await Promise.all(shown.map((c) => audited(deps, caller, 'FindCustomers', c._id, '', reason, `found by ${lookup.by}`)));
  else await audited(deps, caller, 'FindCustomers', '', '', reason, `found nobody by ${lookup.by}`);
  return { customers: shown.map(foundCustomer).sort(byLastContact), truncated: found.length > MAX_FOUND };
}

async function customersFor(deps: ApiDeps, lookup: OfficerLookup): Promise<CustomerDoc[]> {
  if (lookup.by === 'name') {
    const candidates = await deps.privacy.index.customersNamed(lookup.words, NAME_CANDIDATES);
    const live = await deps.directory.liveAmong(candidates);
    return live.filter((c) => nameHolds(c.displayName, lookup.words)).slice(0, MAX_FOUND + 1);
  }
  const id = await deps.directory.findCustomerId(lookup.identity);
  if (!id) return [];
  // The row can outlive its customer document for a moment (a crash between the two writes).
  if (!(await deps.directory.hasCustomer(id))) return [];
  return [await deps.directory.liveCustomer(await deps.directory.getCustomer(id))];
}
