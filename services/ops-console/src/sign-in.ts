// Who gets into the console and with what: libs/web's sign-in route for the ops and supervisor
// roles, and the session every other route reads or changes under.
import type http from 'node:http';
import type { Session } from '#libs/staff';
import { ForbiddenError, StaffSignIn, type StaffSignInParts } from '#libs/web';
import { consoleRole } from './access';
import type { ConsoleRole } from './redact';

const MAX_BODY_BYTES = 16 * 1024;
const ROLE_REFUSAL = 'the ops console is for the ops and supervisor roles, and the privacy role for data-protection requests';
const PRIVACY_ONLY = 'data-protection requests are for the privacy role';

export type ConsoleSession = Session & { consoleRole: ConsoleRole };

export function consoleSignIn(deps: StaffSignInParts): StaffSignIn {
  return new StaffSignIn({
    ...deps,
    maxBodyBytes: MAX_BODY_BYTES,
    // The data-protection officer signs in for the data-protection page alone (privacySession).
    refusal: (member) => (consoleRole(member.role) || member.role === 'privacy' ? undefined : ROLE_REFUSAL),
    welcome: async (member, session) => ({ staffId: member.id, name: member.name, role: member.role, csrfToken: deps.sessions.csrfToken(session.id) }),
  });
}

function withConsoleRole(session: Session): ConsoleSession {
  const role = consoleRole(session.role);
  if (!role) throw new ForbiddenError(ROLE_REFUSAL);
  return { ...session, consoleRole: role };
}

/** The session of a request that only reads. */
export async function readingSession(signIn: StaffSignIn, req: http.IncomingMessage): Promise<ConsoleSession> {
  return withConsoleRole(await signIn.session(req));
}

/** The session of a state-changing request: the console's own Origin and the CSRF token too. */
export async function changingSession(signIn: StaffSignIn, req: http.IncomingMessage): Promise<ConsoleSession> {
  return withConsoleRole(await signIn.changing(req));
}

/** The session of a data-protection request: the privacy role, which no other route accepts. */
export async function privacySession(signIn: StaffSignIn, req: http.IncomingMessage, changing: boolean): Promise<Session> {
  const session = changing ? await signIn.changing(req) : await signIn.session(req);
  if (session.role !== 'privacy') throw new ForbiddenError(PRIVACY_ONLY);
  return session;
}
