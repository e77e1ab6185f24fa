// The promise on a long case, from the conversation view: read it, set or update it (the
// customer gets the status message routing writes), or mark it kept. Agents and experts act on
// the conversations they hold, supervisors on any; routing decides and says why it refuses.
import type { Role } from '#libs/auth';
import type { PromiseStep } from '#libs/proto';
import { ForbiddenError, sendJson, type StaffSignIn } from '#libs/web';
import type { Backends, Caller } from './backends';
import { forms, minorUnits, parseForm } from './forms';
import { caller, type Route } from './http';
import { DESK_ROLES } from './sign-in';

interface PromiseRouteDeps {
  signIn: StaffSignIn;
  backends: Backends;
  act(roles: Role[], run: (c: Caller, body: unknown) => Promise<unknown>): Route;
}

/** What the page shows: the milestone, its date, the cost in words, and where it stands. */
export function promiseView(step: PromiseStep | undefined, state: string) {
  if (!step) return { promise: null };
  const digits = step.costCurrency
    ? (new Intl.NumberFormat('en', { style: 'currency', currency: step.costCurrency }).resolvedOptions().maximumFractionDigits ?? 2)
    : 0;
  return {
    promise: {
      milestone: step.milestone,
      dueAt: step.dueAt ? step.dueAt.getTime() : 0,
      cost: step.costCurrency ? `${(step.costMinor / 10 ** digits).toFixed(digits)} ${step.costCurrency}` : '',
      state,
      ownerAgentId: step.ownerAgentId,
      setBy: step.setBy,
      version: step.version,
    },
  };
}

export function promiseRoutes({ signIn, backends, act }: PromiseRouteDeps): { get: Record<string, Route>; post: Record<string, Route> } {
  return {
    get: {
      '/api/promise': async (req, res) => {
        const s = await signIn.session(req);
        if (!DESK_ROLES.includes(s.role)) throw new ForbiddenError(`a ${s.role} may not read promises here`);
        const url = new URL(req.url ?? '/', 'http://desk');
        const { conversationId } = parseForm(forms.conversation, { conversationId: url.searchParams.get('conversationId') ?? '' });
        const found = await backends.getPromise(caller(s), conversationId);
        sendJson(res, 200, promiseView(found.promise, found.state));
      },
    },
    post: {
      '/api/promise': act(DESK_ROLES, async (c, body) => {
        const f = parseForm(forms.promise, body);
        const req =
          'kept' in f
            ? { conversationId: f.conversationId, milestone: '', dueAt: undefined, costMinor: 0, costCurrency: '', kept: true }
            : {
                conversationId: f.conversationId,
                milestone: f.milestone,
                dueAt: new Date(f.dueAt),
                costMinor: minorUnits(f.cost, f.currency),
                costCurrency: f.currency.toUpperCase(),
                kept: false,
              };
        const set = await backends.setPromise(c, req);
        return { ...promiseView(set.promise, set.state), statusText: set.statusText };
      }),
    },
  };
}
