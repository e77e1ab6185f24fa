// Makes one Ed25519 key pair per token issuer in a folder, for a deployment's secrets:
//   node --import tsx scripts/auth-keys.ts <folder>
// <folder>/public/<issuer>.pub.pem for the verifiers, <folder>/private/<issuer>.key.pem (0600) for
// each issuer alone. Keys already there are kept. Prints file names, never a key.
import path from 'node:path';
import { ensureKeyPairs, ISSUER_NAMES } from '#libs/auth';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: node --import tsx scripts/auth-keys.ts <folder>\n');
  process.exit(2);
}
const keys = ensureKeyPairs(path.resolve(dir));
process.stdout.write(`public keys (every verifier): ${keys.publicKeysDir}\n`);
for (const issuer of ISSUER_NAMES) process.stdout.write(`private key of ${issuer} (${issuer} alone): ${keys.privateKeyFile(issuer)}\n`);
