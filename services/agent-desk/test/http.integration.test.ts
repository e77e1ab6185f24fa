// Sign-in, CSRF, Origin, sign-out, expiry and sign-in limits over real HTTP and WebSocket,
// with the roster and sessions in the real store.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '#libs/config';
import { dropDatabase, MONGODB_URI, testAuthEnv, testContext, uniqueId } from '#libs/testing';
import { agentDeskConfig, startAgentDesk, type RunningAgentDesk } from '../src/service';

const SECRET = 'agent-desk-http-test-secret-0123456789';
const PASSWORD = 'correct horse battery';
const database = uniqueId('desk_http').replace(/-/g, '_');
const ctx = testContext('agent-desk');
let desk: RunningAgentDesk;
let base: string;
let clock = Date.now();

beforeAll(async () => {
  desk = await startAgentDesk(
    ctx,
    loadConfig(agentDeskConfig, {
      AGENT_DESK_FOLLOW_DELIVERIES: 'false',
      MONGODB_URI,
      HTTP_PORT: '0',
      ...testAuthEnv('agent-desk'),
      AGENT_DESK_SESSION_SECRET: SECRET,
      STAFF_DB: database,
      AGENT_DESK_SESSION_TTL_MS: String(30 * 60_000),
      AGENT_DESK_SIGNIN_MAX_PER_ID: '3',
      AGENT_DESK_SIGNIN_MAX_PER_IP: '8',
      AGENT_DESK_SIGNIN_MAX_PER_ID_TOTAL: '5',
      AGENT_DESK_SIGNIN_WINDOW_MS: String(10 * 60_000),
      // Nothing listens here: the desk must still sign people in and say routing is away.
      ROUTING_GRPC_ADDR: '127.0.0.1:9',
      CUSTOMER_RECORD_GRPC_ADDR: '127.0.0.1:9',
    }),
    { now: () => clock },
  );
  base = `http://127.0.0.1:${desk.port}`;
  await desk.roster.upsert({ id: 'sue', name: 'Sue Park', role: 'supervisor' }, PASSWORD);
  await desk.roster.upsert({ id: 'ana', name: 'Ana Lopez', role: 'agent', tier: 1, skills: { billing: 3 } }, PASSWORD);
  await desk.roster.upsert({ id: 'olga', name: 'Olga Ops', role: 'ops' }, PASSWORD);
});

afterAll(async () => {
  await ctx.stop();
  await dropDatabase(database);
});

const origin = () => base;
function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: origin(), ...headers }, body: JSON.stringify(body) });
}
/** A sign-in from a given loopback address (127.0.0.0/8 is all this machine), as from another client. */
function signInFrom(address: string, id: string, password = PASSWORD): Promise<{ status: number; retryAfter: string | undefined; body: { error?: string } }> {
  const payload = JSON.stringify({ id, password });
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}/api/sign-in`,
      {
        method: 'POST',
        localAddress: address,
        headers: { 'content-type': 'application/json', origin: origin(), 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, body: JSON.parse(text) as { error?: string } }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function signIn(id: string, password = PASSWORD) {
  const res = await post('/api/sign-in', { id, password });
  const body = (await res.json()) as { csrf: string; error?: string; warning?: string; staff: { role: string } };
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  return { res, body, cookie };
}

/** Runs the staff command as a user would, against this test's roster. */
function staff(args: string[], env: Record<string, string> = {}, stdin = '') {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'services/agent-desk/src/staff-cli.ts', ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', MONGODB_URI, STAFF_DB: database, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(stdin);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('agent desk over HTTP', () => {
  it('serves the page with a strict Content-Security-Policy and no inline script', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    expect(html).toMatch(/<script src="\/app.js" defer><\/script>/);
    expect(html).not.toMatch(/<script>(?!<\/script>)/);
    expect((await fetch(`${base}/app.js`)).headers.get('content-type')).toContain('text/javascript');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/../package.json`)).status).toBe(404);
  });

  it('signs in with an HttpOnly SameSite=Strict cookie, guards changes with CSRF and Origin, signs out', async () => {
    expect((await fetch(`${base}/api/me`)).status).toBe(401);
    const crossSite = await fetch(`${base}/api/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://evil.test' },
      body: JSON.stringify({ id: 'sue', password: PASSWORD }),
    });
    expect(crossSite.status).toBe(403);
    const wrong = await signIn('sue', 'not the password!!');
    expect(wrong.res.status).toBe(401);
    expect(wrong.body.error).toBe('wrong id or password');
    const unknown = await signIn('nobody-here', PASSWORD);
    expect(unknown.body.error).toBe('wrong id or password');
    expect((await signIn('olga')).res.status).toBe(403);

    const { res, body, cookie } = await signIn('sue');
    expect(res.status).toBe(200);
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^cc_agent_desk_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(body.staff).toEqual({ id: 'sue', name: 'Sue Park', role: 'supervisor' });
    const me = await fetch(`${base}/api/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { csrf: string }).csrf).toBe(body.csrf);

    // A state change without the token, with a wrong one, or from another origin is refused.
    const reassign = { conversationId: 'c-1', toAgentId: 'ana' };
    expect((await post('/api/reassign', reassign, { cookie })).status).toBe(403);
    expect((await post('/api/reassign', reassign, { cookie, 'x-csrf-token': 'x'.repeat(43) })).status).toBe(403);
    expect(
      (
        await fetch(`${base}/api/reassign`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': body.csrf },
          body: JSON.stringify(reassign),
        })
      ).status,
    ).toBe(403);
    expect((await post('/api/reassign', reassign, { cookie, 'x-csrf-token': body.csrf, origin: 'http://evil.test' })).status).toBe(403);
    // With both it reaches routing, which is down here: a clear 503, not a crash.
    const through = await post('/api/reassign', reassign, { cookie, 'x-csrf-token': body.csrf });
    expect(through.status).toBe(503);
    expect(((await through.json()) as { error: string }).error).toBe('routing is not answering; try again');
    // Input is validated before anything is called.
    const bad = await post('/api/reassign', { conversationId: 'c-1', toAgentId: 'NOT VALID' }, { cookie, 'x-csrf-token': body.csrf });
    expect(bad.status).toBe(400);
    // A supervisor may not act as an agent.
    expect((await post('/api/reply', { conversationId: 'c-1', text: 'hi' }, { cookie, 'x-csrf-token': body.csrf })).status).toBe(403);
    // A supervisor reads a conversation's customer only with a reason, checked before customer-record is asked.
    const read = async (q: Record<string, string>) => {
      const res = await fetch(`${base}/api/conversation?${new URLSearchParams(q)}`, { headers: { cookie } });
      return { status: res.status, error: ((await res.json()) as { error?: string }).error };
    };
    expect(await read({ conversationId: 'c-1' })).toEqual({ status: 400, error: 'give a reason for reading this customer; it is written to the audit log' });
    expect(await read({ conversationId: 'c-1', reason: 'ok' })).toMatchObject({ status: 400, error: expect.stringMatching(/too short/) });
    expect(await read({ conversationId: 'c-1', reason: 'complaint follow-up' })).toEqual({ status: 503, error: 'customer-record is not answering; try again' });

    const out = await post('/api/sign-out', {}, { cookie, 'x-csrf-token': body.csrf });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await fetch(`${base}/api/me`, { headers: { cookie } })).status).toBe(401);
  });

  it('signs an agent in even when routing is away, saying so', async () => {
    const { res, body } = await signIn('ana');
    expect(res.status).toBe(200);
    expect(body.warning).toMatch(/routing did not take your profile yet/);
  });

  it('opens the live socket only for a signed-in session from this origin, and closes it at sign-out', async () => {
    const { body, cookie } = await signIn('sue');
    const url = `${base.replace('http', 'ws')}/live`;
    const refused = (headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url, { headers });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => undefined);
      });
    expect(await refused({ origin: base })).toBe(401);
    expect(await refused({ origin: 'http://evil.test', cookie })).toBe(403);
    const ws = new WebSocket(url, { headers: { origin: base, cookie } });
    const first = await new Promise<{ type: string; text: string }>((resolve, reject) => {
      ws.once('message', (data) => resolve(JSON.parse(String(data))));
      ws.once('error', reject);
    });
    // Routing is down here, and the supervisor is told so.
    expect(first).toEqual({ type: 'status', text: 'routing is not answering; retrying…' });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await post('/api/sign-out', {}, { cookie, 'x-csrf-token': body.csrf });
    expect(await closed).toBe(4001);
  });

  it('ends a session when it expires', async () => {
    const { cookie } = await signIn('sue');
    expect((await fetch(`${base}/api/me`, { headers: { cookie } })).status).toBe(200);
    clock += 31 * 60_000;
    expect((await fetch(`${base}/api/me`, { headers: { cookie } })).status).toBe(401);
  });

  it('throttles a guesser without locking the person out: per id and address, per address, per id overall', async () => {
    clock += 11 * 60_000; // a fresh window
    const attacker = '127.0.0.11';
    for (let i = 0; i < 3; i++) expect((await signInFrom(attacker, 'ana', `wrong password ${i}`)).status).toBe(401);
    // The attacker's own guesses are throttled, even the right password, with the wait in Retry-After...
    for (let i = 0; i < 20; i++) {
      const limited = await signInFrom(attacker, 'ana', i === 19 ? PASSWORD : `wrong password x${i}`);
      expect(limited.status).toBe(429);
      expect(Number(limited.retryAfter)).toBeGreaterThan(500);
      expect(limited.body.error).toMatch(/too many sign-in attempts/);
    }
    // ...while Ana, from her own address, signs in.
    expect((await signInFrom('127.0.0.12', 'ana')).status).toBe(200);

    // One address guessing many ids stops at 8 failures, for every id.
    for (let i = 0; i < 8; i++) expect((await signInFrom('127.0.0.13', `guess-${i}`, 'wrong password x')).status).toBe(401);
    expect((await signInFrom('127.0.0.13', 'sue')).status).toBe(429);
    expect((await signInFrom('127.0.0.14', 'sue')).status).toBe(200);

    // Guesses at one id from many addresses: past 5 in all, only an address that has not failed
    // for it may try; the rightful person from a clean address gets in.
    for (const a of ['127.0.0.21', '127.0.0.22']) for (let i = 0; i < 2; i++) expect((await signInFrom(a, 'sue', 'wrong password y')).status).toBe(401);
    expect((await signInFrom('127.0.0.23', 'sue', 'wrong password y')).status).toBe(401);
    expect((await signInFrom('127.0.0.21', 'sue')).status).toBe(429);
    expect((await signInFrom('127.0.0.24', 'sue', 'wrong password z')).status).toBe(401);
    expect((await signInFrom('127.0.0.24', 'sue')).status).toBe(429);
    expect((await signInFrom('127.0.0.25', 'sue')).status).toBe(200);

    clock += 11 * 60_000;
    expect((await signInFrom(attacker, 'ana')).status).toBe(200);
  });

  // Six runs of the command, each a Node process compiling TypeScript: slow on a loaded machine.
  it('adds and updates staff with the staff command, password from the environment or stdin', { timeout: 180_000 }, async () => {
    const added = await staff(['add', '--id', 'bo', '--name', 'Bo Ek', '--role', 'agent', '--skills', 'billing:3,general:2', '--capacity', 'chat=2,total=6'], {
      STAFF_PASSWORD: 'bo password 123',
    });
    expect(added).toMatchObject({ code: 0, stdout: 'added bo (agent, tier 1)\n' });
    expect(await desk.roster.get('bo')).toMatchObject({
      name: 'Bo Ek',
      tier: 1,
      skills: { billing: 3, general: 2 },
      capacity: { voice: 1, chat: 2, sms: 5, email: 5, total: 6 },
    });
    clock += 16 * 60_000; // sign-in limits from the tests above are over
    expect((await signIn('bo', 'bo password 123')).res.status).toBe(200);

    const updated = await staff(['add', '--id', 'bo', '--name', 'Bo Ek', '--role', 'expert'], {}, 'a new password 456\n');
    expect(updated).toMatchObject({ code: 0, stdout: 'updated bo (expert, tier 2)\n' });
    expect((await signIn('bo', 'a new password 456')).body.staff).toMatchObject({ role: 'expert' });
    expect((await staff(['list'])).stdout).toMatch(/^bo\texpert\ttier 2\tBo Ek\t/m);

    expect(await staff(['add', '--id', 'bo'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--name is required') });
    expect(await staff(['add', '--id', 'cy', '--name', 'Cy', '--role', 'agent'], { STAFF_PASSWORD: 'short' })).toMatchObject({
      code: 1,
      stderr: 'staff: password must be at least 12 characters\n',
    });
    expect(await staff(['add', '--id', 'cy', '--name', 'Cy', '--role', 'service'], { STAFF_PASSWORD: 'long enough password' })).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('role service is for services'),
    });
  });

  it("ends a person's sessions on every desk instance, live sockets too, when they are disabled, changed or removed", { timeout: 180_000 }, async () => {
    clock += 16 * 60_000;
    const otherCtx = testContext('agent-desk-b');
    const other = await startAgentDesk(
      otherCtx,
      loadConfig(agentDeskConfig, {
        AGENT_DESK_FOLLOW_DELIVERIES: 'false',
        MONGODB_URI,
        HTTP_PORT: '0',
        ...testAuthEnv('agent-desk'),
        AGENT_DESK_SESSION_SECRET: SECRET,
        STAFF_DB: database,
        AGENT_DESK_SESSION_CHECK_MS: '500',
        ROUTING_GRPC_ADDR: '127.0.0.1:9',
        CUSTOMER_RECORD_GRPC_ADDR: '127.0.0.1:9',
      }),
    );
    try {
      const bases = [base, `http://127.0.0.1:${other.port}`];
      await desk.roster.upsert({ id: 'kim', name: 'Kim Lee', role: 'supervisor' }, PASSWORD);
      /** Signs kim in on both instances and opens a live socket on each; resolves with their close codes. */
      const openBoth = async () =>
        Promise.all(
          bases.map(async (b) => {
            const res = await fetch(`${b}/api/sign-in`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', origin: b },
              body: JSON.stringify({ id: 'kim', password: PASSWORD }),
            });
            expect(res.status).toBe(200);
            const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
            const ws = new WebSocket(`${b.replace('http', 'ws')}/live`, { headers: { origin: b, cookie } });
            await new Promise((resolve, reject) => ws.once('message', resolve).once('error', reject));
            const closed = new Promise<{ code: number; at: number }>((resolve) => ws.once('close', (code) => resolve({ code, at: Date.now() })));
            return { base: b, cookie, closed };
          }),
        );
      const expectEnded = async (opened: Awaited<ReturnType<typeof openBoth>>, since: number) => {
        for (const o of opened) {
          const { code, at } = await o.closed;
          expect(code).toBe(4001);
          expect(at - since).toBeLessThan(5000);
          // Each session is refused on both instances.
          for (const b of bases) expect((await fetch(`${b}/api/me`, { headers: { cookie: o.cookie } })).status).toBe(401);
        }
      };

      let opened = await openBoth();
      const disabled = await staff(['disable', 'kim']);
      expect(disabled).toMatchObject({ code: 0, stdout: 'disabled kim: they can no longer sign in, and their sessions are ended\n' });
      await expectEnded(opened, Date.now() - 1000);
      const refused = await signIn('kim');
      expect(refused.res.status).toBe(403);
      expect(refused.body.error).toBe('your account is disabled; ask a supervisor to enable it');
      expect((await signIn('kim', 'not the password!!')).body.error).toBe('wrong id or password');
      expect((await staff(['list'])).stdout).toMatch(/^kim\tsupervisor\ttier 1\tKim Lee\t.*\tdisabled$/m);
      expect(await staff(['enable', 'kim'])).toMatchObject({ code: 0, stdout: 'enabled kim\n' });

      // A new role ends the sessions made under the old one.
      opened = await openBoth();
      let since = Date.now();
      await desk.roster.upsert({ id: 'kim', name: 'Kim Lee', role: 'agent' });
      await expectEnded(opened, since);
      expect((await signIn('kim')).body.staff).toMatchObject({ role: 'agent' });
      await desk.roster.upsert({ id: 'kim', name: 'Kim Lee', role: 'supervisor' });

      // So does a new password.
      opened = await openBoth();
      since = Date.now();
      await desk.roster.upsert({ id: 'kim', name: 'Kim Lee', role: 'supervisor' }, 'kim new password 42');
      await expectEnded(opened, since);
      await desk.roster.upsert({ id: 'kim', name: 'Kim Lee', role: 'supervisor' }, PASSWORD);

      opened = await openBoth();
      const removed = await staff(['remove', 'kim']);
      expect(removed).toMatchObject({ code: 0, stdout: 'removed kim from the roster; their sessions are ended\n' });
      await expectEnded(opened, Date.now() - 1000);
      expect((await staff(['list'])).stdout).not.toMatch(/^kim\t/m);
      expect((await signIn('kim')).res.status).toBe(401);
      expect(await staff(['remove', 'kim'])).toMatchObject({ code: 1, stderr: 'staff: no staff member kim\n' });
      expect(await staff(['disable'])).toMatchObject({ code: 2, stderr: expect.stringContaining('disable needs a staff id') });
    } finally {
      await otherCtx.stop();
    }
  });
});
