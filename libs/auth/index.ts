// Who is calling: bearer tokens (JWT) carrying the caller's id and role, verified with jose
// against a shared secret (HS256) or a public key (RS256/ES256/EdDSA).
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { importSPKI, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { z } from 'zod';

export const ROLES = ['agent', 'expert', 'supervisor', 'ops', 'service'] as const;
export type Role = (typeof ROLES)[number];

export interface Caller {
  id: string;
  role: Role;
}

export class AuthError extends Error {
  constructor(
    readonly kind: 'unauthenticated' | 'permission_denied',
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

export const ISSUER = 'contactcenter';

/** Configuration shape: one of the two must be set. */
export const authConfig = {
  AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  AUTH_JWT_PUBLIC_KEY: z.string().startsWith('-----BEGIN PUBLIC KEY-----', 'must be a PEM public key').optional(),
};

export type TokenVerifier = (token: string) => Promise<Caller>;

export async function createTokenVerifier(config: { AUTH_JWT_SECRET?: string; AUTH_JWT_PUBLIC_KEY?: string }): Promise<TokenVerifier> {
  let key: Uint8Array | Awaited<ReturnType<typeof importSPKI>>;
  let algorithms: string[];
  if (config.AUTH_JWT_PUBLIC_KEY) {
    algorithms = ['RS256', 'ES256', 'EdDSA'];
    key = await importSPKIAny(config.AUTH_JWT_PUBLIC_KEY, algorithms);
  } else if (config.AUTH_JWT_SECRET) {
    algorithms = ['HS256'];
    key = new TextEncoder().encode(config.AUTH_JWT_SECRET);
  } else {
    throw new Error('neither AUTH_JWT_SECRET nor AUTH_JWT_PUBLIC_KEY is set');
  }
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, { issuer: ISSUER, algorithms }));
    } catch (err) {
      throw new AuthError('unauthenticated', `invalid token: ${err instanceof Error ? err.message : String(err)}`);
    }
    const role = payload.role;
    if (typeof payload.sub !== 'string' || !payload.sub) throw new AuthError('unauthenticated', 'token has no subject');
    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) throw new AuthError('unauthenticated', 'token has no valid role');
    return { id: payload.sub, role: role as Role };
  };
}

async function importSPKIAny(pem: string, algorithms: string[]): ReturnType<typeof importSPKI> {
  for (const alg of algorithms) {
    try {
      return await importSPKI(pem, alg);
    } catch {
      // try the next algorithm the key may be for
    }
  }
  throw new Error('AUTH_JWT_PUBLIC_KEY is not an RSA, EC P-256 or Ed25519 public key');
}

/** Issues an HS256 token (agent-desk sign-in, service-to-service calls, tests). */
export async function issueToken(secret: string, caller: Caller, ttlSeconds = 8 * 3600): Promise<string> {
  return new SignJWT({ role: caller.role })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(caller.id)
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(new TextEncoder().encode(secret));
}

/** A caller's bearer token for calls to other services, issued once and re-issued at half its life. */
export function tokenSource(secret: string, caller: Caller, ttlSeconds = 3600): () => Promise<string> {
  let cached: { token: Promise<string>; renewAt: number } | undefined;
  return () => {
    if (!cached || cached.renewAt <= Date.now()) cached = { token: issueToken(secret, caller, ttlSeconds), renewAt: Date.now() + (ttlSeconds * 1000) / 2 };
    return cached.token;
  };
}

/** A service's own bearer token for calls to other services. */
export function serviceTokenSource(secret: string, serviceId: string, ttlSeconds = 3600): () => Promise<string> {
  return tokenSource(secret, { id: serviceId, role: 'service' }, ttlSeconds);
}

/** Call metadata carrying the token as `authorization: Bearer …`. */
export function bearerMetadata(token: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

export function bearerToken(metadata: Metadata): string | undefined {
  const value = metadata.get('authorization')[0];
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(value);
  return match?.[1];
}

/** Verifies the call's bearer token and that its role is allowed; throws a gRPC error otherwise. */
export async function authorizeCall(metadata: Metadata, verify: TokenVerifier, allowed: readonly Role[]): Promise<Caller> {
  const token = bearerToken(metadata);
  if (!token) throw grpcError(status.UNAUTHENTICATED, 'missing bearer token in the authorization metadata');
  let caller: Caller;
  try {
    caller = await verify(token);
  } catch (err) {
    throw grpcError(status.UNAUTHENTICATED, err instanceof Error ? err.message : String(err));
  }
  if (!allowed.includes(caller.role)) throw grpcError(status.PERMISSION_DENIED, `role ${caller.role} may not do this`);
  return caller;
}

export function grpcError(code: status, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: undefined as unknown as Metadata }) as ServiceError;
}
