// Who gets into the desk: libs/web's sign-in route for agents, experts and supervisors. An
// agent or expert is registered with routing at sign-in and set offline at sign-out.
import type { Role } from '#libs/auth';
import { errorDetails, type Logger } from '#libs/observability';
import type { Session, SessionStore, StaffEntry } from '#libs/staff';
import { StaffSignIn, type StaffSignInParts } from '#libs/web';
import { BackendError, type Backends } from './backends';
import { caller, MAX_BODY_BYTES, registerWithRouting } from './http';
import { presenceValue } from './views';

export const WORKERS: Role[] = ['agent', 'expert'];
export const DESK_ROLES: Role[] = ['agent', 'expert', 'supervisor'];

interface DeskSignInDeps extends StaffSignInParts {
  backends: Backends;
  /** Called when a session ends, so its live socket closes at once. */
  onSignOut(sessionId: string): void;
}

/** Who is signed in, and the CSRF token the page sends back: the answer to sign-in and to /api/me. */
export function signedIn(sessions: SessionStore, s: Session) {
  return { staff: { id: s.staffId, name: s.name, role: s.role }, csrf: sessions.csrfToken(s.id), expiresAt: s.expiresAt.getTime() };
}

export function deskSignIn({ backends, onSignOut, ...parts }: DeskSignInDeps): StaffSignIn {
  const { sessions, logger } = parts;
  return new StaffSignIn({
    ...parts,
    maxBodyBytes: MAX_BODY_BYTES,
    refusal: (member) =>
      DESK_ROLES.includes(member.role) ? undefined : `the desk is for agents, experts and supervisors; a ${member.role} uses the ops console`,
    welcome: async (member, session) => ({ ...signedIn(sessions, session), warning: await registerAtSignIn(backends, logger, member) }),
    signedOut: async (session) => {
      if (WORKERS.includes(session.role))
        await backends
          .setPresence(caller(session), presenceValue('offline'))
          .catch((err: unknown) => logger.warn(errorDetails(err), 'setting offline at sign-out failed'));
      onSignOut(session.id);
    },
  });
}

/** Registers an agent or expert with routing; what to tell them when routing did not take it. */
async function registerAtSignIn(backends: Backends, logger: Logger, member: StaffEntry): Promise<string> {
  if (!WORKERS.includes(member.role)) return '';
  try {
    await registerWithRouting(backends, member);
    return '';
  } catch (err) {
    logger.warn({ staffId: member.id, ...errorDetails(err) }, 'registering with routing failed at sign-in');
    return `routing did not take your profile yet (${err instanceof BackendError ? err.details : 'unavailable'}); the desk retries when it connects`;
  }
}
