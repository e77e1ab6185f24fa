// Who is calling: bearer tokens (EdDSA JWTs) carrying the caller's id and role. Every issuer signs
// with a key pair of its own; verifiers hold public keys only, each bound to the roles its issuer
// may mint (issuers.ts). See docs/security.md, "Keys and tokens".
import { Metadata } from '@grpc/grpc-js';
import { PermissionDeniedError, UnauthenticatedError } from '../service/grpc-errors';
import { AuthError } from './errors';
import type { TokenVerifier } from './tokens';
import type { Caller, Role } from './roles';

export { ROLES, type Caller, type Role } from './roles';
export { isGranted, rolesFor, type ServiceGrants } from './grants';
export { ISSUER_NAMES, isIssuer, type Audience, type IssuerName } from './issuers';
export {
  keyId,
  optionalSigningKeyConfig,
  optionalTrustedKeysConfig,
  readPublicKeys,
  readSigningKey,
  signingKeyConfig,
  trustedKeysConfig,
  type SigningKey,
  type TrustedKey,
} from './keys';
export { ensureKeyPairs, type KeyFiles } from './key-files';
export { createTokenVerifier, issueToken, serviceTokenSource, tokenSource, type IssueOptions, type TokenVerifier } from './tokens';

/** Call metadata carrying the token as `authorization: Bearer …`. */
export function bearerMetadata(token: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

function bearerToken(metadata: Metadata): string | undefined {
  const value = metadata.get('authorization')[0];
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(value);
  return match?.[1];
}

/** Verifies the call's bearer token and that its role is allowed; UnauthenticatedError or PermissionDeniedError otherwise. */
export async function authorizeCall(metadata: Metadata, verify: TokenVerifier, allowed: readonly Role[]): Promise<Caller> {
  const token = bearerToken(metadata);
  if (!token) throw new UnauthenticatedError('missing bearer token in the authorization metadata');
  let caller: Caller;
  try {
    caller = await verify(token);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw err instanceof AuthError && err.kind === 'permission_denied' ? new PermissionDeniedError(message) : new UnauthenticatedError(message);
  }
  if (!allowed.includes(caller.role)) throw new PermissionDeniedError(`role ${caller.role} may not do this`);
  return caller;
}
