// Who may use the console.
import type { Role } from '#libs/auth';
import type { ConsoleRole } from './redact';

export function consoleRole(role: Role): ConsoleRole | null {
  return role === 'ops' || role === 'supervisor' ? role : null;
}
