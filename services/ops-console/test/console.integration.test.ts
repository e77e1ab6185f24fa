// The console over real HTTP, with the real broker and store: sign-in rules, CSRF and Origin
// checks, and dead-letter replay with its audit.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { SlaEvent, SlaEventKind } from '#libs/proto';
import { recordTopics, uniqueId, waitFor } from '#libs/testing';
import { PASSWORD, signIn, signInFrom, startHarness, writeDeadLetter, type Harness, type SignedIn } from './harness';

let h: Harness;
let base: string;

beforeAll(async () => {
  h = await startHarness();
  base = h.console.url;
});
afterAll(() => h?.stop());

const post = (path: string, session: SignedIn | undefined, options: { csrf?: string | null; origin?: string | null } = {}) => {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (session) headers.cookie = session.cookie;
  const csrf = options.csrf === undefined ? session?.csrf : options.csrf;
  if (csrf) headers['x-csrf-token'] = csrf;
  const origin = options.origin === undefined ? base : options.origin;
  if (origin) headers.origin = origin;
  return fetch(`${base}${path}`, { method: 'POST', headers, body: '{}' });
};

describe('sign-in', () => {
  it('refuses the agent role, wrong passwords and other origins; lets ops and supervisors in with a strict HttpOnly cookie', async () => {
    const agent = await signIn(base, h.ids.agent);
    expect(agent.status).toBe(403);
    expect(agent.body.error).toMatch(/ops and supervisor/);
    expect(agent.session).toBeUndefined();
    expect((await signIn(base, h.ids.ops, 'not the password at all')).status).toBe(401);
    const foreign = await fetch(`${base}/api/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
      body: JSON.stringify({ id: h.ids.ops, password: PASSWORD }),
    });
    expect(foreign.status).toBe(403);

    const res = await fetch(`${base}/api/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ id: h.ids.ops, password: PASSWORD }),
    });
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    const session = await fetch(`${base}/api/session`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(await session.json()).toMatchObject({ staffId: h.ids.ops, role: 'ops' });
    expect((await fetch(`${base}/api/session`)).status).toBe(401);
  });

  it('stops a guesser after five failures at one id from one address, without locking the person out elsewhere', async () => {
    const id = h.ids.supervisor;
    for (let i = 0; i < 5; i++) expect((await signInFrom(base, '127.0.0.31', id, `wrong password ${i}`)).status).toBe(401);
    for (let i = 0; i < 10; i++) {
      const blocked = await signInFrom(base, '127.0.0.31', id, i === 9 ? PASSWORD : `wrong password x${i}`);
      expect(blocked.status).toBe(429);
    }
    const blocked = await fetch(`${base}/api/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ id, password: PASSWORD }),
    });
    // The same id from another address (this one, 127.0.0.1) still signs in.
    expect(blocked.status).toBe(200);
    expect((await signInFrom(base, '127.0.0.32', id)).status).toBe(200);
  });

  it('tells a disabled person so, and ends their live stream when they are disabled', async () => {
    const id = `dis.${uniqueId('p').slice(2).toLowerCase()}`;
    await h.console.roster.upsert({ id, name: 'Dana Ops', role: 'ops' }, PASSWORD);
    const { session } = await signIn(base, id);
    const controller = new AbortController();
    const stream = await fetch(`${base}/api/stream`, { headers: { cookie: session!.cookie }, signal: controller.signal });
    expect(stream.status).toBe(200);
    const ended = (async () => {
      const reader = stream.body!.getReader();
      for (;;) if ((await reader.read()).done) return Date.now();
    })();
    const since = Date.now();
    await h.console.roster.disable(id);
    try {
      expect((await ended) - since).toBeLessThan(5000);
    } finally {
      controller.abort();
    }
    expect((await fetch(`${base}/api/session`, { headers: { cookie: session!.cookie } })).status).toBe(401);
    const refused = await signIn(base, id);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('your account is disabled; ask a supervisor to enable it');
    expect((await signIn(base, id, 'not the password at all')).status).toBe(401);
  });

  it('refuses sign-out without the CSRF token or from another origin, then signs out and the session is gone', async () => {
    const { session } = await signIn(base, h.ids.ops);
    expect((await post('/api/sign-out', session, { csrf: null })).status).toBe(403);
    expect((await post('/api/sign-out', session, { csrf: 'x'.repeat(43) })).status).toBe(403);
    expect((await post('/api/sign-out', session, { origin: null })).status).toBe(403);
    expect((await post('/api/sign-out', session, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await fetch(`${base}/api/session`, { headers: { cookie: session!.cookie } })).status).toBe(200);
    const out = await post('/api/sign-out', session);
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expect((await fetch(`${base}/api/session`, { headers: { cookie: session!.cookie } })).status).toBe(401);
  });
});

describe('dead-letter replay', () => {
  it('is refused to supervisors and without CSRF; by ops it is audited and the record arrives on its original topic', async () => {
    const conversationId = uniqueId('conv');
    const value = Buffer.from(
      SlaEvent.encode(
        SlaEvent.fromPartial({ eventId: uniqueId('sla'), conversationId, kind: SlaEventKind.SLA_EVENT_KIND_BREACH, targetMs: 1000, elapsedMs: 5000 }),
      ).finish(),
    );
    const ceId = randomUUID();
    const headers = { ce_id: ceId, ce_type: topics.sla.type, ce_source: 'contactcenter/test', ce_specversion: '1.0', ce_time: new Date().toISOString() };
    await writeDeadLetter(
      h.kafka,
      { topic: topics.sla.name, partition: 0, offset: '12345', key: conversationId, value, headers },
      'handler-failed',
      'customer-record unavailable',
    );

    const ops = (await signIn(base, h.ids.ops)).session!;
    const supervisor = (await signIn(base, h.ids.supervisor)).session;
    // The supervisor may be rate-limited by the test above; a fresh supervisor avoids that.
    const supId = `sup2.${randomUUID().slice(0, 8)}`;
    await h.console.roster.upsert({ id: supId, name: 'Second Supervisor', role: 'supervisor' }, PASSWORD);
    const sup = supervisor ?? (await signIn(base, supId)).session!;

    type List = {
      records: { partition: number; offset: string; key: string; reason: string; original: { topic: string; offset: string }; replays: { by: string }[] }[];
      canReplay: boolean;
    };
    const list = async (s: SignedIn) => (await (await fetch(`${base}/api/dead-letters`, { headers: { cookie: s.cookie } })).json()) as List;
    const record = await waitFor(async () => (await list(ops)).records.find((r) => r.key === conversationId), 30_000, 'the dead letter listed');
    expect(record).toMatchObject({ reason: 'handler-failed', original: { topic: topics.sla.name, offset: '12345' } });
    expect((await list(sup)).canReplay).toBe(false);

    const path = `/api/dead-letters/${record.partition}/${record.offset}/replay`;
    const recorder = await recordTopics([topics.sla.name]);
    try {
      const bySupervisor = await post(path, sup);
      expect(bySupervisor.status).toBe(403);
      expect(((await bySupervisor.json()) as { error: string }).error).toMatch(/ops role/);
      expect((await post(path, ops, { csrf: null })).status).toBe(403);
      expect((await post(path, ops, { origin: 'http://evil.example' })).status).toBe(403);
      expect(await h.console.audit.entries.countDocuments({})).toBe(0);

      const replayed = await post(path, ops);
      expect(replayed.status).toBe(200);
      expect(await replayed.json()).toMatchObject({ replayedTo: topics.sla.name });

      const back = await recorder.waitFor((r) => r.message.key?.toString() === conversationId, 30_000);
      expect(back.message.value!.equals(value)).toBe(true);
      expect(back.headers.ce_id).toBe(ceId);
      expect(back.headers.ce_type).toBe(topics.sla.type);
      expect(Object.keys(back.headers).filter((k) => k.startsWith('dlq_'))).toEqual([]);
    } finally {
      await recorder.close();
    }
    const audit = await h.console.audit.entries.find({}).toArray();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      by: h.ids.ops,
      role: 'ops',
      outcome: 'replayed',
      deadLetter: { partition: record.partition, offset: record.offset },
      original: { topic: topics.sla.name, offset: '12345' },
      key: conversationId,
      ceId,
    });
    expect(audit[0]!.at.getTime()).toBeGreaterThan(Date.now() - 60_000);
    const after = await list(ops);
    expect(after.records.find((r) => r.key === conversationId)!.replays).toEqual([expect.objectContaining({ by: h.ids.ops })]);
  });

  it('answers 404 for a dead letter that is not there and 400 for a bad filter', async () => {
    const ops = (await signIn(base, h.ids.ops)).session!;
    expect((await post('/api/dead-letters/0/999999999/replay', ops)).status).toBe(404);
    expect((await fetch(`${base}/api/stream?channel=fax`, { headers: { cookie: ops.cookie } })).status).toBe(400);
    expect((await fetch(`${base}/api/conversations/%E0%A4%A/timeline`, { headers: { cookie: ops.cookie } })).status).toBe(400);
    expect((await fetch(`${base}/api/conversations/a%20b/timeline`, { headers: { cookie: ops.cookie } })).status).toBe(400);
    expect((await fetch(`${base}/api/dead-letters`)).status).toBe(401);
    expect((await fetch(`${base}/api/charts`)).status).toBe(401);
  });
});

describe('session expiry', () => {
  it('ends a session after its lifetime: the page, the stream and replay all need a new sign-in', async () => {
    const short = await startHarness({ OPS_CONSOLE_SESSION_TTL_MS: '1500' });
    try {
      const signedIn = await signIn(short.console.url, short.ids.ops);
      expect(signedIn.status).toBe(200);
      const cookie = signedIn.session!.cookie;
      expect((await fetch(`${short.console.url}/api/session`, { headers: { cookie } })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 2000));
      expect((await fetch(`${short.console.url}/api/session`, { headers: { cookie } })).status).toBe(401);
      expect((await fetch(`${short.console.url}/api/stream`, { headers: { cookie } })).status).toBe(401);
      const replay = await fetch(`${short.console.url}/api/dead-letters/0/0/replay`, {
        method: 'POST',
        headers: { cookie, origin: short.console.url, 'x-csrf-token': signedIn.session!.csrf, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(replay.status).toBe(401);
    } finally {
      await short.stop();
    }
  });
});
