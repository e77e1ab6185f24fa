// Cookies and HSTS follow the public URL: a site reached over https gets Secure cookies and
// Strict-Transport-Security unless an operator turns them off on purpose (a TLS-terminating
// test rig, say). Over plain http neither is sent, since browsers would drop a Secure cookie.
import type http from 'node:http';
import { z } from '../config';

/** A year, the value browsers' preload lists expect; subdomains are left to their own servers. */
export const HSTS_HEADER_VALUE = 'max-age=31536000';

export interface TransportSecurity {
  secureCookies: boolean;
  /** Strict-Transport-Security value to send on every answer, or undefined for none. */
  hsts?: string;
}

/** true/false, or unset (undefined) to follow the public URL. */
export const optionalBool = () =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1' || v === 'yes'));

export function transportSecurity(publicUrl: string | undefined, overrides: { secureCookies?: boolean; hsts?: boolean } = {}): TransportSecurity {
  const https = publicUrl !== undefined && /^https:\/\//i.test(publicUrl);
  const hsts = overrides.hsts ?? https;
  return { secureCookies: overrides.secureCookies ?? https, ...(hsts ? { hsts: HSTS_HEADER_VALUE } : {}) };
}

/** Sets the HSTS header on a response before its handler writes it (writeHead merges it in). */
export function applyTransportSecurity(res: http.ServerResponse, security: TransportSecurity): void {
  if (security.hsts) res.setHeader('strict-transport-security', security.hsts);
}
