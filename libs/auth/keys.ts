// Key files: a folder of trusted public keys (`<issuer>.pub.pem`, during a rotation also
// `<issuer>.<label>.pub.pem`) and one private key for a process that issues tokens. Read once at
// start-up; errors name the file and what is wrong, never its contents.
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ISSUER_NAMES, isIssuer, type IssuerName } from './issuers';

export interface TrustedKey {
  issuer: IssuerName;
  /** The key's id, as issuers put it in a token's `kid` header. */
  kid: string;
  file: string;
  key: KeyObject;
}

export interface SigningKey {
  issuer: IssuerName;
  kid: string;
  key: KeyObject;
}

class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyFileError';
  }
}

const MAX_KEY_FILE_BYTES = 16 * 1024;
const PUBLIC_FILE = /^([a-z][a-z0-9-]*)(?:\.([A-Za-z0-9_-]{1,40}))?\.pub\.pem$/;

/** A key's id: the SHA-256 of its public half (SPKI), so issuer and verifier agree without a registry. */
export function keyId(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64url')
    .slice(0, 22);
}

export function readPublicKeys(dir: string): TrustedKey[] {
  if (!isDirectory(dir)) throw new KeyFileError('is not a folder');
  const keys: TrustedKey[] = [];
  // Names starting with a dot are a mounted Secret's or ConfigMap's own bookkeeping (..data).
  for (const name of fs
    .readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .sort()) {
    const match = PUBLIC_FILE.exec(name);
    if (!match) throw new KeyFileError(`${name}: only public keys belong here, named <issuer>.pub.pem or <issuer>.<label>.pub.pem`);
    const issuer = match[1]!;
    if (!isIssuer(issuer)) throw new KeyFileError(`${name}: ${issuer} is no issuer of tokens (issuers: ${ISSUER_NAMES.join(', ')})`);
    const pem = readKeyFile(path.join(dir, name), name);
    if (!/^-----BEGIN PUBLIC KEY-----/.test(pem.trimStart()))
      throw new KeyFileError(`${name}: is not a PEM public key (BEGIN PUBLIC KEY); a private key never belongs here`);
    const key = parse(() => createPublicKey(pem), name, 'public');
    keys.push({ issuer, kid: keyId(key), file: name, key });
  }
  if (keys.length === 0) throw new KeyFileError('holds no public key (<issuer>.pub.pem)');
  return keys;
}

export function readSigningKey(file: string, issuer: IssuerName): SigningKey {
  const name = path.basename(file);
  const pem = readKeyFile(file, name);
  if (!/^-----BEGIN PRIVATE KEY-----/.test(pem.trimStart())) throw new KeyFileError(`${name}: is not a PEM private key (BEGIN PRIVATE KEY, PKCS#8)`);
  const key = parse(() => createPrivateKey(pem), name, 'private');
  return { issuer, kid: keyId(createPublicKey(key)), key };
}

function readKeyFile(file: string, name: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new KeyFileError(`${name}: no such file`);
  }
  if (!stat.isFile()) throw new KeyFileError(`${name}: is not a file`);
  if (stat.size > MAX_KEY_FILE_BYTES) throw new KeyFileError(`${name}: is larger than a key file (${MAX_KEY_FILE_BYTES} bytes at most)`);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new KeyFileError(`${name}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function parse(read: () => KeyObject, name: string, kind: 'public' | 'private'): KeyObject {
  let key: KeyObject;
  try {
    key = read();
  } catch {
    // The parser's message may quote the file; say only what it is not.
    throw new KeyFileError(`${name}: is not a readable ${kind} key in PEM`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new KeyFileError(`${name}: is a ${key.asymmetricKeyType ?? 'symmetric'} key; tokens are signed with Ed25519 keys only`);
  return key;
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** Turns a key error into a configuration problem of the variable being read. */
function asIssue<T>(ctx: z.RefinementCtx, read: () => T): T | typeof z.NEVER {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof KeyFileError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message });
    return z.NEVER;
  }
}

/** Configuration of a service that verifies tokens: the folder of public keys it trusts. */
export const trustedKeysConfig = {
  /** Folder of the trusted issuers' public keys (<issuer>.pub.pem). */
  AUTH_PUBLIC_KEYS_DIR: z
    .string({ message: 'is required: the folder of trusted public keys, <issuer>.pub.pem' })
    .min(1, 'must name a folder')
    .transform((dir, ctx) => asIssue(ctx, () => readPublicKeys(dir))),
};

/** The same for a service that verifies tokens on only some of its paths: unset, those paths refuse everyone. */
export const optionalTrustedKeysConfig = {
  /** Folder of the trusted issuers' public keys (<issuer>.pub.pem). */
  AUTH_PUBLIC_KEYS_DIR: z
    .string()
    .min(1, 'must name a folder')
    .optional()
    .transform((dir, ctx) => (dir === undefined ? undefined : asIssue(ctx, () => readPublicKeys(dir)))),
};

/**
 * Configuration of a service that issues tokens: its own private key, nobody else's. The issuer
 * is the service itself, fixed in code, so a key file cannot make it sign as someone else.
 */
export function signingKeyConfig(issuer: IssuerName) {
  return {
    /** This service's own private key (PEM), to sign its calls to other services. */
    AUTH_PRIVATE_KEY_FILE: z
      .string({ message: `is required: ${issuer}'s private key file (PEM)` })
      .min(1, 'must name a file')
      .transform((file, ctx) => asIssue(ctx, () => readSigningKey(file, issuer))),
  };
}

/** The same for a service that signs only some calls (their address set means the key is required). */
export function optionalSigningKeyConfig(issuer: IssuerName) {
  return {
    /** This service's own private key (PEM), to sign its calls to other services. */
    AUTH_PRIVATE_KEY_FILE: z
      .string()
      .min(1, 'must name a file')
      .optional()
      .transform((file, ctx) => (file === undefined ? undefined : asIssue(ctx, () => readSigningKey(file, issuer)))),
  };
}
