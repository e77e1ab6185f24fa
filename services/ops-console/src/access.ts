// Who may use the console and where state-changing requests may come from.
import type { Role } from '../../../libs/auth';
import type { ConsoleRole } from './redact';

export function consoleRole(role: Role): ConsoleRole | null {
  return role === 'ops' || role === 'supervisor' ? role : null;
}

/**
 * A state-changing request must come from the console's own pages: the Origin header (sent by
 * browsers on every POST) must be the console's origin, the configured one or else this host's.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, configured: string | undefined, secure: boolean): boolean {
  if (!origin) return false;
  if (configured) return origin === configured;
  if (!host) return false;
  return origin === `${secure ? 'https' : 'http'}://${host}`;
}
