// Signing staff in and out of the two web applications, and the checks every later request of
// a signed-in person passes. One route for both: the desk and the console read the same form,
// limit guesses alike (libs/staff's SignInThrottle) and hand out the same server-side session
// cookie; each application says only who may use it and what a signed-in browser is told.
import type http from 'node:http';
import { z } from '../config';
import type { Logger } from '../observability';
import type { Session, SessionStore, SignInThrottle, StaffEntry, StaffRoster } from '../staff';
import { clientAddress, type TrustedProxies } from './client-address';
import { BadRequestError, ForbiddenError, NotSignedInError, TooManyRequestsError } from './errors';
import { originAllowed, readJson, sendJson } from './http';

/** The sign-in form: a staff id (compared in lower case) and a password, each of bounded length. */
export const signInForm = z.object({
  id: z.string({ message: 'id is required' }).trim().toLowerCase().min(1, 'id is required').max(64, 'id is too long'),
  password: z.string({ message: 'password is required' }).min(1, 'password is required').max(256, 'password is too long'),
});

type SignInForm = z.output<typeof signInForm>;

/** The sign-in form of a JSON body; every message names the field it is about. */
export function readSignInForm(body: unknown): SignInForm {
  const result = signInForm.safeParse(body ?? {});
  if (!result.success) throw new BadRequestError(result.error.issues[0]!.message);
  return result.data;
}

/** What an application hands the route from its wiring. */
export interface StaffSignInParts {
  roster: StaffRoster;
  sessions: SessionStore;
  throttle: SignInThrottle;
  /** Load balancers whose X-Forwarded-For names the client for the per-address limit. */
  trustedProxies: TrustedProxies;
  /** The exact Origin state-changing requests must carry; unset, one naming the host they were sent to. */
  origin?: string;
  secureCookies: boolean;
  now: () => number;
  logger: Logger;
}

/** What makes the route an application's own. */
interface StaffSignInOptions extends StaffSignInParts {
  maxBodyBytes: number;
  /** Why this person may not use the application, as a sentence for them; undefined when they may. */
  refusal(member: StaffEntry): string | undefined;
  /** What the browser is told once the person is signed in. */
  welcome(member: StaffEntry, session: Session): Promise<object>;
  /** Runs once a session has ended by signing out. */
  signedOut?(session: Session): Promise<void>;
}

export class StaffSignIn {
  constructor(private readonly options: StaffSignInOptions) {}

  /** Refuses a request whose Origin is not the application's own. */
  checkOrigin(req: http.IncomingMessage): void {
    if (!originAllowed(req.headers.origin, req.headers.host, this.options.origin)) throw new ForbiddenError('request from another origin refused');
  }

  /** The live session the request's cookie names. */
  async session(req: http.IncomingMessage): Promise<Session> {
    const { sessions } = this.options;
    const found = await sessions.get(sessions.idFromCookie(req.headers.cookie));
    if (!found) throw new NotSignedInError();
    return found;
  }

  /** Every state-changing request: the application's own Origin, a session, and its CSRF token in x-csrf-token. */
  async changing(req: http.IncomingMessage): Promise<Session> {
    this.checkOrigin(req);
    const session = await this.session(req);
    const token = req.headers['x-csrf-token'];
    if (!this.options.sessions.checkCsrf(session.id, typeof token === 'string' ? token : undefined)) throw new ForbiddenError('missing or wrong CSRF token');
    return session;
  }

  csrfToken(session: Session): string {
    return this.options.sessions.csrfToken(session.id);
  }

  /** POST sign-in: the form, the guess limits, the password, the role; then a session cookie. */
  readonly signIn = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const { sessions, logger } = this.options;
    this.checkOrigin(req);
    const form = readSignInForm(await readJson(req, this.options.maxBodyBytes));
    const member = await this.authenticate(form, clientAddress(req, this.options.trustedProxies));
    const refusal = this.options.refusal(member);
    if (refusal) {
      logger.info({ staffId: member.id, role: member.role }, 'sign-in refused for role');
      throw new ForbiddenError(refusal);
    }
    const session = await sessions.create(member);
    logger.info({ staffId: member.id, role: member.role }, 'signed in');
    sendJson(res, 200, await this.options.welcome(member, session), { 'set-cookie': sessions.cookie(session, this.options.secureCookies) });
  };

  /** POST sign-out: ends the session everywhere and clears the cookie. */
  readonly signOut = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const { sessions } = this.options;
    const session = await this.changing(req);
    await sessions.end(session.id);
    await this.options.signedOut?.(session);
    sendJson(res, 200, { signedOut: true }, { 'set-cookie': sessions.clearedCookie(this.options.secureCookies) });
  };

  /** The roster entry of a right password, within the guess limits; a wrong id and a wrong password look the same. */
  private async authenticate({ id, password }: SignInForm, address: string): Promise<StaffEntry> {
    const { throttle, logger } = this.options;
    const decision = throttle.attempt(id, address, this.options.now());
    if (!decision.allowed) {
      const waitMs = Math.max(decision.retryAfterMs, 1000);
      logger.warn({ limit: decision.limit }, 'sign-in attempts limited');
      throw new TooManyRequestsError(`too many sign-in attempts; try again in ${Math.ceil(waitMs / 60_000)} min`, waitMs);
    }
    const result = await this.options.roster.authenticate(id, password);
    if (result.outcome === 'wrong') throw new NotSignedInError('wrong id or password');
    throttle.succeeded(id, address);
    if (result.outcome === 'disabled') throw new ForbiddenError('your account is disabled; ask a supervisor to enable it');
    return result.member;
  }
}
