// Key files and their configuration: what is read, what is refused, and that no error shows a key.
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config';
import { ensureKeyPairs } from './key-files';
import { optionalSigningKeyConfig, readPublicKeys, readSigningKey, signingKeyConfig, trustedKeysConfig } from './keys';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-keys-test-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const files = ensureKeyPairs(path.join(root, 'keys'));

function folder(name: string, entries: Record<string, string>): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(entries)) fs.writeFileSync(path.join(dir, file), text);
  return dir;
}

function configError(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('the configuration was accepted');
}

describe('key files', () => {
  it('generates a key pair per issuer once, the private keys readable by their owner only', () => {
    const privateFile = files.privateKeyFile('routing');
    expect(fs.statSync(privateFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(privateFile)).mode & 0o777).toBe(0o700);
    const before = fs.readFileSync(privateFile, 'utf8');
    ensureKeyPairs(path.join(root, 'keys'));
    expect(fs.readFileSync(privateFile, 'utf8')).toBe(before);
    const trusted = readPublicKeys(files.publicKeysDir);
    expect(trusted.map((k) => k.issuer)).toEqual(['agent-desk', 'integration-api', 'ops-console', 'routing', 'sms-voice']);
    expect(trusted.find((k) => k.issuer === 'routing')!.kid).toBe(readSigningKey(privateFile, 'routing').kid);
  });

  it('reads a second key of an issuer, for a rotation', () => {
    const pem = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const dir = folder('rotation', {
      'routing.pub.pem': fs.readFileSync(path.join(files.publicKeysDir, 'routing.pub.pem'), 'utf8'),
      'routing.2027-01.pub.pem': pem,
      '..data': '',
    });
    const keys = readPublicKeys(dir);
    expect(keys.map((k) => k.file)).toEqual(['routing.2027-01.pub.pem', 'routing.pub.pem']);
    expect(new Set(keys.map((k) => k.kid)).size).toBe(2);
  });

  it('refuses a private key, an unknown issuer, another kind of key or a stray file among the trusted keys', () => {
    const privatePem = fs.readFileSync(files.privateKeyFile('sms-voice'), 'utf8');
    const load = (dir: string) => configError(() => loadConfig(trustedKeysConfig, { AUTH_PUBLIC_KEYS_DIR: dir }));
    const asPublic = load(folder('private-in-public', { 'sms-voice.pub.pem': privatePem }));
    expect(asPublic).toMatch(/sms-voice\.pub\.pem: is not a PEM public key .*a private key never belongs here/);
    expect(asPublic).not.toContain(privatePem.split('\n')[1]);
    expect(load(folder('private-named', { 'sms-voice.key.pem': privatePem }))).toMatch(/sms-voice\.key\.pem: only public keys belong here/);
    expect(load(folder('unknown', { 'chat.pub.pem': 'x' }))).toMatch(/chat is no issuer of tokens/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(load(folder('rsa', { 'routing.pub.pem': rsa }))).toMatch(/routing\.pub\.pem: is a rsa key; tokens are signed with Ed25519 keys only/);
    expect(load(folder('broken', { 'routing.pub.pem': '-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n' }))).toMatch(
      /is not a readable public key/,
    );
    expect(load(folder('empty', {}))).toMatch(/holds no public key/);
    expect(load(path.join(root, 'nowhere'))).toMatch(/AUTH_PUBLIC_KEYS_DIR: is not a folder/);
    expect(configError(() => loadConfig(trustedKeysConfig, {}))).toMatch(/AUTH_PUBLIC_KEYS_DIR: is required/);
  });

  it("reads a service's own private key, and never prints one", () => {
    const own = loadConfig(signingKeyConfig('routing'), { AUTH_PRIVATE_KEY_FILE: files.privateKeyFile('routing') });
    expect(own.AUTH_PRIVATE_KEY_FILE).toMatchObject({ issuer: 'routing', kid: expect.any(String) });
    expect(loadConfig(optionalSigningKeyConfig('sms-voice'), {}).AUTH_PRIVATE_KEY_FILE).toBeUndefined();
    const publicPem = fs.readFileSync(path.join(files.publicKeysDir, 'routing.pub.pem'), 'utf8');
    const wrong = configError(() => loadConfig(signingKeyConfig('routing'), { AUTH_PRIVATE_KEY_FILE: path.join(files.publicKeysDir, 'routing.pub.pem') }));
    expect(wrong).toMatch(/AUTH_PRIVATE_KEY_FILE: routing\.pub\.pem: is not a PEM private key/);
    expect(wrong).not.toContain(publicPem.split('\n')[1]);
    const garbled = path.join(folder('garbled', { 'k.pem': '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n' }), 'k.pem');
    const garbledError = configError(() => loadConfig(signingKeyConfig('routing'), { AUTH_PRIVATE_KEY_FILE: garbled }));
    expect(garbledError).toMatch(/k\.pem: is not a readable private key in PEM/);
    expect(garbledError).not.toContain('MC4CAQAwBQYDK2VwBCIEI');
    expect(configError(() => loadConfig(signingKeyConfig('routing'), {}))).toMatch(/AUTH_PRIVATE_KEY_FILE: is required/);
    expect(configError(() => loadConfig(signingKeyConfig('routing'), { AUTH_PRIVATE_KEY_FILE: path.join(root, 'missing.pem') }))).toMatch(
      /missing\.pem: no such file/,
    );
  });
});
