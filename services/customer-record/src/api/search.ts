// Searching conversations: the filter is checked (search/filter.ts), the person's scope decided
// here, the index asked, and the search audited before it is answered. Agents and experts find
// only conversations they may read (the rules of access.ts, projected into the index); words and
// identities are for those who may read texts and names; ops and services get metadata only.
import type { Caller } from '#libs/auth';
import { IdentityKind, type ConversationHit, type SearchConversationsRequest, type SearchConversationsResponse } from '#libs/proto';
import { PermissionDeniedError } from '#libs/service';
import { ReadRequestError } from '../access';
import { seesContents, seesIdentity } from '../authz';
import type { NormalisedIdentity } from '#libs/contact';
import type { IndexedConversation, SearchScope } from '../search/conversation-index';
import { encodeCursor, parseSearch, type SearchFilter } from '../search/filter';
import { audited } from './answers';
import type { ApiDeps } from './deps';
import { checkReason } from './requests';

const SEARCHABLE: readonly IdentityKind[] = [IdentityKind.IDENTITY_KIND_EMAIL, IdentityKind.IDENTITY_KIND_PHONE];

/** Agents and experts search as themselves: only what they may read, and no reason asked. */
const searchesOwn = (caller: Caller) => caller.role === 'agent' || caller.role === 'expert';

function checkScope(caller: Caller, filter: SearchFilter, reason: string): void {
  if (filter.match && !seesContents(caller.role)) throw new PermissionDeniedError('message words are searchable only by those who may read message texts');
  if (filter.identity && (!seesIdentity(caller.role) || caller.role === 'service'))
    throw new PermissionDeniedError('identities are searchable only by those who may see who the customer is');
  const namesCustomer = Boolean(filter.customerId || filter.identity);
  if (namesCustomer && !searchesOwn(caller) && reason.trim().length < 3)
    throw new ReadRequestError("reason is required: a supervisor, ops or a service searching a customer's conversations says why, and the reason is audited");
}

/** The customer named, or the identity's customer when one is known, with the identities they write from. */
async function customerOf(deps: ApiDeps, filter: SearchFilter): Promise<{ customerId?: string; identities: NormalisedIdentity[] }> {
  const id = filter.customerId ?? (filter.identity ? await deps.directory.findCustomerId(filter.identity) : null);
  if (!id) return { identities: [] };
  const customer = await deps.directory.liveCustomer(await deps.directory.getCustomer(id));
  return { customerId: customer._id, identities: customer.identities.filter((i) => SEARCHABLE.includes(i.kind)) };
}

function toHit(c: IndexedConversation): ConversationHit {
  return { ...c, startedAt: new Date(c.startedAt), lastActivityAt: new Date(c.lastActivityAt) };
}

export async function searchConversations(deps: ApiDeps, req: SearchConversationsRequest, caller: Caller): Promise<SearchConversationsResponse> {
  const filter = parseSearch(req, deps.defaultCountry);
  const reason = checkReason(req.reason);
  checkScope(caller, filter, reason);
  const customer = await customerOf(deps, filter);
  // An identity whose customer is known finds all of that customer's conversations, on every channel.
  const resolved: SearchFilter = customer.customerId ? { ...filter, customerId: customer.customerId, identity: undefined } : filter;
  const scope: SearchScope = {
    readerId: searchesOwn(caller) ? caller.id : undefined,
    windowMs: deps.search.windowMs,
    now: Date.now(),
    withContents: seesContents(caller.role),
    customerIdentities: customer.identities,
  };
  const page = await deps.search.index.search(resolved, scope);
  await audited(deps, caller, 'SearchConversations', customer.customerId ?? '', '', reason);
  return { hits: page.hits.map(toHit), nextPageToken: page.next ? encodeCursor(page.next) : '' };
}
