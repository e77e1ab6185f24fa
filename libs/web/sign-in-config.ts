// The sign-in and session settings of a staff application, one set of names for both: each
// prefixed with the application's own name (AGENT_DESK_…, OPS_CONSOLE_…), since `npm start`
// runs every service from one environment and each application needs values of its own.
import { positiveInt, z } from '../config';
import type { SignInLimits } from '../staff';
import { optionalBool } from './transport-security';

/** The settings without their prefix; `application` names it in the message for a missing secret. */
function signInFields(application: string) {
  return {
    /** Keys the sessions' CSRF tokens: the same on every instance, used for nothing else. */
    SESSION_SECRET: z.string({ message: `is required: it keys the ${application}’s CSRF tokens` }).min(32, 'must be at least 32 characters'),
    /** How long a session lasts after sign-in. */
    SESSION_TTL_MS: positiveInt(8 * 3600_000),
    /** How often open live connections are checked against their session (ended, person disabled or changed). */
    SESSION_CHECK_MS: positiveInt(2000),
    /** Secure session cookie and Strict-Transport-Security; unset, they are on when the public address is https. */
    SECURE_COOKIE: optionalBool(),
    /** Strict-Transport-Security alone; unset, on when the public address is https. */
    HSTS: optionalBool(),
    /** Wrong passwords allowed per window for one staff id from one client address. */
    SIGNIN_MAX_PER_ID: positiveInt(5),
    /** Wrong passwords allowed per window from one client address, whatever the id. */
    SIGNIN_MAX_PER_IP: positiveInt(30),
    /** Wrong passwords for one staff id from all addresses, after which only addresses that have not failed for it may try. */
    SIGNIN_MAX_PER_ID_TOTAL: positiveInt(50),
    /** The window of the wrong-password limits. */
    SIGNIN_WINDOW_MS: positiveInt(15 * 60_000),
  };
}

type SignInFields = ReturnType<typeof signInFields>;
type Prefixed<P extends string, T> = { [K in keyof T & string as `${P}_${K}`]: T[K] };

/** The schema of the settings under `<prefix>_`, to spread into a service's configuration. */
type SignInConfigShape<P extends string> = Prefixed<P, SignInFields>;
/** The settings as a loaded configuration holds them. */
type SignInConfigValues<P extends string> = Prefixed<P, { [K in keyof SignInFields]: z.output<SignInFields[K]> }>;

export function signInConfig<P extends string>(prefix: P, application: string): SignInConfigShape<P> {
  return Object.fromEntries(Object.entries(signInFields(application)).map(([name, schema]) => [`${prefix}_${name}`, schema])) as SignInConfigShape<P>;
}

export interface SignInSettings {
  sessionSecret: string;
  sessionTtlMs: number;
  sessionCheckMs: number;
  /** Unset: follow the public address. */
  secureCookies?: boolean;
  hsts?: boolean;
  limits: SignInLimits;
}

/** The settings of one application read back from its loaded configuration. */
export function signInSettings<P extends string>(prefix: P, config: SignInConfigValues<P>): SignInSettings {
  const get = <K extends keyof SignInFields>(name: K) => (config as Record<string, unknown>)[`${prefix}_${name}`] as z.output<SignInFields[K]>;
  return {
    sessionSecret: get('SESSION_SECRET'),
    sessionTtlMs: get('SESSION_TTL_MS'),
    sessionCheckMs: get('SESSION_CHECK_MS'),
    secureCookies: get('SECURE_COOKIE'),
    hsts: get('HSTS'),
    limits: {
      perIdAndAddress: get('SIGNIN_MAX_PER_ID'),
      perAddress: get('SIGNIN_MAX_PER_IP'),
      perIdTotal: get('SIGNIN_MAX_PER_ID_TOTAL'),
      windowMs: get('SIGNIN_WINDOW_MS'),
    },
  };
}
