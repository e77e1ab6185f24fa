// The stored attachments' internal port through the real service and store: bytes only for a
// token the desk signed for a person who reads conversations, addressed to email; refusals in words.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#libs/config';
import { dropDatabase, testAuthEnv, testContext, testToken, uniqueId } from '#libs/testing';
import { emailConfig } from '../src/config';
import { startEmailService } from '../src/service';
import type { EmailStore } from '../src/store';
import { emailTestEnv } from './service-env';

const database = uniqueId('email_content').replace(/-/g, '_');
const ctx = testContext('email-content');
let base: string;
let store: EmailStore;

beforeAll(async () => {
  const started = await startEmailService(
    ctx,
    loadConfig(emailConfig, {
      ...emailTestEnv(database),
      EMAIL_CONTENT_HTTP_PORT: '0',
      EMAIL_OUTBOUND_ENABLED: 'false',
      LOG_LEVEL: 'silent',
      ...testAuthEnv('email'),
    }),
  );
  base = `http://127.0.0.1:${started.contentPort}/internal/attachments/`;
  store = started.store;
}, 60_000);

afterAll(async () => {
  await ctx.stop();
  await dropDatabase(database);
});

const get = async (path: string, token?: string) => {
  const res = await fetch(base + path, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    claimed: res.headers.get('x-attachment-content-type'),
    body: Buffer.from(await res.arrayBuffer()),
  };
};

describe('attachment content', () => {
  it('answers the bytes to a person the desk signed for, and refuses anyone else', async () => {
    const content = Buffer.from(`statement ${uniqueId('file')}`);
    const sha256 = createHash('sha256').update(content).digest('hex');
    await store.storeAttachment(sha256, 'text/plain', content);
    const ana = await testToken({ id: 'ana', role: 'agent' }, 'email');

    const ok = await get(sha256, ana);
    expect(ok).toMatchObject({ status: 200, type: 'application/octet-stream', claimed: 'text/plain' });
    expect(ok.body.equals(content)).toBe(true);

    expect((await get(sha256)).status).toBe(401);
    // A token for another service is not one for email.
    expect((await get(sha256, await testToken({ id: 'ana', role: 'agent' }, 'sms-voice'))).status).toBe(401);
    expect((await get(sha256, await testToken({ id: 'olu', role: 'ops' }, 'email'))).status).toBe(403);
    expect((await get('not-a-hash', ana)).status).toBe(400);
    expect((await get('f'.repeat(64), ana)).status).toBe(404);
  });
});
