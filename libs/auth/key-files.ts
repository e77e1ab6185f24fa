// Writes an Ed25519 key pair per issuer into a folder, once: `public/<issuer>.pub.pem` (what
// verifiers trust) and `private/<issuer>.key.pem` (mode 0600, handed to that issuer alone). Used by
// `npm start`, the fault suite, the tests and `scripts/auth-keys.ts` for deployments.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ISSUER_NAMES, type IssuerName } from './issuers';

export interface KeyFiles {
  publicKeysDir: string;
  privateKeyFile(issuer: IssuerName): string;
}

function keyFilesIn(dir: string): KeyFiles {
  return {
    publicKeysDir: path.join(dir, 'public'),
    privateKeyFile: (issuer) => path.join(dir, 'private', `${issuer}.key.pem`),
  };
}

/** Creates what is missing and keeps what is there, so tokens stay valid across restarts. */
export function ensureKeyPairs(dir: string, issuers: readonly IssuerName[] = ISSUER_NAMES): KeyFiles {
  const files = keyFilesIn(dir);
  fs.mkdirSync(files.publicKeysDir, { recursive: true, mode: 0o755 });
  fs.mkdirSync(path.join(dir, 'private'), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.join(dir, 'private'), 0o700);
  for (const issuer of issuers) {
    const privateFile = files.privateKeyFile(issuer);
    const publicFile = path.join(files.publicKeysDir, `${issuer}.pub.pem`);
    if (!fs.existsSync(privateFile)) {
      const { privateKey } = generateKeyPairSync('ed25519');
      fs.writeFileSync(privateFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    }
    fs.chmodSync(privateFile, 0o600);
    // The public half is derived again every time: it always matches the private key kept.
    const publicPem = createPublicKey(createPrivateKey(fs.readFileSync(privateFile))).export({ type: 'spki', format: 'pem' });
    if (!fs.existsSync(publicFile) || fs.readFileSync(publicFile, 'utf8') !== publicPem) fs.writeFileSync(publicFile, publicPem, { mode: 0o644 });
  }
  return files;
}
