// Who gets into the console and with what: libs/web's sign-in route for the ops and supervisor
// roles, and the session every other route reads or changes under.
import type http from 'node:http';
import type { Session } from '#libs/staff';
import { ForbiddenError, StaffSignIn, type StaffSignInParts } from '#libs/web';
import { consoleRole } from './access';
import type { ConsoleRole } from './redact';

const MAX_BODY_BYTES = 16 * 1024;
const ROLE_REFUSAL = 'the ops console is for the ops and supervisor roles';

export type ConsoleSession = Session & { consoleRole: ConsoleRole };

export function consoleSignIn(deps: StaffSignInParts): StaffSignIn {
  return new StaffSignIn({
    ...deps,
    maxBodyBytes: MAX_BODY_BYTES,
    refusal: (member) => (consoleRole(member.role) ? undefined : ROLE_REFUSAL),
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
