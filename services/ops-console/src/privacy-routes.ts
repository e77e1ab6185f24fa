// The data-protection officer's page: find the customer a request is about, export their data as
// a download, and erase it. The privacy role reaches these routes only, and these routes take no
// other role; customer-record checks the role again, audits every request and answers NOT_FOUND
// for an unknown customer.
import type http from 'node:http';
import { BadRequestError, HttpError, readJson, sendJson, type StaffSignIn } from '#libs/web';
import { IdentityKind, type FoundCustomer, type Identity } from '#libs/proto';
import type { ConversationSearch } from './conversation-search';
import { sendExport } from './export-download';
import type { ApiRoute } from './http';
import { privacySession } from './sign-in';

export interface PrivacyRouteDeps {
  signIn: StaffSignIn;
  conversations: ConversationSearch | null;
}

const ID = /^[A-Za-z0-9_.:@-]{1,128}$/;

function customerIdOf(part: string): string {
  if (!ID.test(part)) throw new BadRequestError('customer id must be 1-128 letters, digits or _.:@-');
  return part;
}

function client(deps: PrivacyRouteDeps): ConversationSearch {
  if (!deps.conversations) throw new HttpError(503, 'data-protection requests need the console signing key (AUTH_PRIVATE_KEY_FILE)');
  return deps.conversations;
}

export function privacyRoutes(deps: PrivacyRouteDeps): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/api/privacy/session',
      name: '/api/privacy/session',
      run: async (req, res) => {
        const session = await privacySession(deps.signIn, req, false);
        sendJson(res, 200, { staffId: session.staffId, name: session.name, role: session.role, csrfToken: deps.signIn.csrfToken(session) });
      },
    },
    {
      method: 'GET',
      path: '/api/privacy/customers',
      name: '/api/privacy/customers',
      run: (req, res, _m, url) => findRoute(deps, req, res, url.searchParams),
    },
    {
      method: 'GET',
      path: /^\/api\/privacy\/customers\/([^/]+)\/export$/,
      name: '/api/privacy/customers/:id/export',
      run: (req, res, m, url) => exportRoute(deps, req, res, customerIdOf(m[1]!), url.searchParams.get('reason') ?? ''),
    },
    {
      method: 'POST',
      path: /^\/api\/privacy\/customers\/([^/]+)\/erase$/,
      name: '/api/privacy/customers/:id/erase',
      run: (req, res, m) => eraseRoute(deps, req, res, customerIdOf(m[1]!)),
    },
  ];
}

/** The export as a file to save (application/json, attachment), passed on as customer-record streams it. */
async function exportRoute(deps: PrivacyRouteDeps, req: http.IncomingMessage, res: http.ServerResponse, customerId: string, reason: string): Promise<void> {
  const session = await privacySession(deps.signIn, req, false);
  await sendExport(await client(deps).exportStream({ id: session.staffId, role: 'privacy' }, { customerId, reason }), res);
}

/**
 * Customers by a verified email address, phone number, chat visitor id or other id, or by name:
 * `?email=` | `?phone=` | `?visitor=` | `?other=<namespace>/<id>` | `?name=`, and `reason`.
 */
async function findRoute(deps: PrivacyRouteDeps, req: http.IncomingMessage, res: http.ServerResponse, params: URLSearchParams): Promise<void> {
  const session = await privacySession(deps.signIn, req, false);
  const field = (name: string) => {
    const value = params.get(name) ?? '';
    if (value.length > 300) throw new BadRequestError(`${name} is longer than 300 characters`);
    return value;
  };
  const request = {
    email: field('email'),
    phone: field('phone'),
    name: field('name'),
    reason: field('reason'),
    identity: identityOf(field('visitor'), field('other')),
  };
  const found = await client(deps).findCustomers({ id: session.staffId, role: 'privacy' }, request);
  sendJson(res, 200, { customers: found.customers.map(asJson), truncated: found.truncated });
}

/** A chat visitor id, or `<namespace>/<id>` of kind OTHER; customer-record checks the rest (and that only one field is given). */
function identityOf(visitor: string, other: string): Identity | undefined {
  if (visitor && other) throw new BadRequestError('give one of visitor and other, not both');
  if (visitor) return { kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: visitor.trim(), namespace: '' };
  if (!other) return undefined;
  const slash = other.indexOf('/');
  if (slash <= 0 || slash === other.length - 1) throw new BadRequestError('other must be <namespace>/<id>, such as loyalty/4711');
  return { kind: IdentityKind.IDENTITY_KIND_OTHER, value: other.slice(slash + 1).trim(), namespace: other.slice(0, slash).trim() };
}

function asJson(c: FoundCustomer) {
  return { ...c, lastContactAt: c.lastContactAt?.toISOString() ?? null, createdAt: c.createdAt?.toISOString() ?? null };
}

async function eraseRoute(deps: PrivacyRouteDeps, req: http.IncomingMessage, res: http.ServerResponse, customerId: string): Promise<void> {
  const session = await privacySession(deps.signIn, req, true);
  const body = await readJson(req, 4096);
  const reason = body && typeof body === 'object' && typeof (body as { reason?: unknown }).reason === 'string' ? (body as { reason: string }).reason : '';
  const erased = await client(deps).eraseCustomer({ id: session.staffId, role: 'privacy' }, { customerId, reason });
  sendJson(res, 200, { erasureId: erased.erasureId, subjectKey: erased.subjectKey, counts: erased.counts, erasedAt: erased.erasedAt?.toISOString() });
}
