// Canned answers over real HTTP with the real store: who may see and change which, the checks
// every desk write has (Origin, session, CSRF), specific errors, caps, edits that lost a race,
// the audit of shared answers, and filling for a conversation while routing is away.
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#libs/config';
import { dropDatabase, MONGODB_URI, testAuthEnv, testContext, uniqueId } from '#libs/testing';
import { agentDeskConfig, startAgentDesk } from '../src/service';

const PASSWORD = 'correct horse battery';
const database = uniqueId('desk_canned').replace(/-/g, '_');
const ctx = testContext('agent-desk');
let base: string;
type Who = 'sue' | 'ana' | 'ben';
const sessions = {} as Record<Who, { cookie: string; csrf: string }>;

beforeAll(async () => {
  const desk = await startAgentDesk(
    ctx,
    loadConfig(agentDeskConfig, {
      AGENT_DESK_FOLLOW_DELIVERIES: 'false',
      MONGODB_URI,
      HTTP_PORT: '0',
      ...testAuthEnv('agent-desk'),
      AGENT_DESK_SESSION_SECRET: 'agent-desk-canned-test-secret-0123456789',
      STAFF_DB: database,
      AGENT_DESK_CANNED_PER_PERSON: '3',
      // Nothing listens here: filling must still work, leaving the wait for the agent.
      ROUTING_GRPC_ADDR: '127.0.0.1:9',
      CUSTOMER_RECORD_GRPC_ADDR: '127.0.0.1:9',
    }),
  );
  base = `http://127.0.0.1:${desk.port}`;
  await desk.roster.upsert({ id: 'sue', name: 'Sue Park', role: 'supervisor' }, PASSWORD);
  await desk.roster.upsert({ id: 'ana', name: 'Ana Lopez', role: 'agent' }, PASSWORD);
  await desk.roster.upsert({ id: 'ben', name: 'Ben Ito', role: 'agent' }, PASSWORD);
  for (const id of ['sue', 'ana', 'ben'] as const) {
    const res = await fetch(`${base}/api/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ id, password: PASSWORD }),
    });
    sessions[id] = { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: ((await res.json()) as { csrf: string }).csrf };
  }
});

afterAll(async () => {
  await ctx.stop();
  await dropDatabase(database);
});

interface Answer {
  id: string;
  scope: string;
  name: string;
  text: string;
  version: number;
  mayChange: boolean;
  updatedBy: string;
}

async function post(who: Who, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base, cookie: sessions[who].cookie, 'x-csrf-token': sessions[who].csrf, ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Answer & { error?: string } & Record<string, unknown> };
}
async function list(who: Who) {
  const res = await fetch(`${base}/api/canned`, { headers: { cookie: sessions[who].cookie } });
  expect(res.status).toBe(200);
  return (await res.json()) as { answers: Answer[]; managesShared: boolean; limits: { perPerson: number } };
}
const shared = {
  scope: 'shared',
  name: 'Greeting',
  text: 'Hello {{customer.name}}, this is {{agent.name}}. Ref {{conversation.reference}}.',
  channels: ['email', 'sms', 'chat'],
};

describe('canned answers over HTTP', () => {
  it('lets a supervisor manage shared answers and refuses agents, on the server', async () => {
    const created = await post('sue', '/api/canned/create', shared);
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ scope: 'shared', name: 'Greeting', version: 1, mayChange: true });

    // An agent cannot create, change or delete one, whatever the page shows.
    expect(await post('ana', '/api/canned/create', { ...shared, name: 'Mine now' })).toMatchObject({
      status: 403,
      body: { error: 'only supervisors manage shared canned answers' },
    });
    const id = created.body.id;
    expect((await post('ana', '/api/canned/update', { ...shared, id, version: 1, text: 'hijacked' })).status).toBe(403);
    expect((await post('ana', '/api/canned/delete', { id })).status).toBe(403);

    // Everyone sees it; only the supervisor may change it.
    expect((await list('ana')).answers.find((a) => a.id === id)).toMatchObject({ text: shared.text, mayChange: false });
    const updated = await post('sue', '/api/canned/update', { ...shared, id, version: 1, text: 'Hi {{customer.name}}, {{agent.name}} here.' });
    expect(updated.body).toMatchObject({ version: 2, updatedBy: 'sue' });
    // An edit made on the version before is refused, not silently lost.
    expect(await post('sue', '/api/canned/update', { ...shared, id, version: 1 })).toMatchObject({ status: 409 });

    // Every change to a shared answer is in the audit, by whom and when.
    const mongo = await MongoClient.connect(MONGODB_URI);
    try {
      const audit = await mongo.db(database).collection('desk_canned_audit').find({ answerId: id }).toArray();
      expect(audit.map((e) => [e.action, e.by])).toEqual([
        ['created', 'sue'],
        ['updated', 'sue'],
      ]);
    } finally {
      await mongo.close();
    }
    const trail = await fetch(`${base}/api/canned/audit`, { headers: { cookie: sessions.sue.cookie } });
    expect(((await trail.json()) as { entries: { answerId: string }[] }).entries.filter((e) => e.answerId === id)).toHaveLength(2);
    expect((await fetch(`${base}/api/canned/audit`, { headers: { cookie: sessions.ana.cookie } })).status).toBe(403);
  });

  it('keeps personal answers to their owner: another agent neither sees nor changes them, a supervisor neither', async () => {
    const mine = await post('ana', '/api/canned/create', { scope: 'personal', name: 'Ana sign-off', text: 'Best, {{agent.name}}', channels: ['email'] });
    expect(mine.status).toBe(200);
    const id = mine.body.id;
    expect((await list('ana')).answers.map((a) => a.id)).toContain(id);
    expect((await list('ben')).answers.map((a) => a.id)).not.toContain(id);
    expect((await list('sue')).answers.map((a) => a.id)).not.toContain(id);
    // Not found rather than forbidden: nobody learns that it exists.
    expect(await post('ben', '/api/canned/update', { id, version: 1, name: 'x', text: 'x', channels: ['email'] })).toMatchObject({
      status: 404,
      body: { error: 'no such canned answer' },
    });
    expect((await post('sue', '/api/canned/delete', { id })).status).toBe(404);
    expect((await post('ana', '/api/canned/delete', { id })).status).toBe(200);
    expect((await list('ana')).answers.map((a) => a.id)).not.toContain(id);
  });

  it('refuses bad templates with specific errors, and caps the personal ones per person', async () => {
    expect(await post('ana', '/api/canned/create', { scope: 'personal', name: 'Bad', text: 'Hi {{customer.phone}}', channels: ['chat'] })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^text: unknown placeholder \{\{customer\.phone\}\}/) as unknown },
    });
    expect(await post('ana', '/api/canned/create', { scope: 'personal', name: 'Long', text: 'x'.repeat(400), channels: ['sms'] })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/too long for SMS: 3 segments/) as unknown },
    });
    expect((await post('ana', '/api/canned/update', { id: 'not-an-id', version: 1, name: 'x', text: 'x', channels: ['chat'] })).body.error).toBe(
      'id is not a canned answer id',
    );
    for (let i = 0; i < 3; i++)
      expect((await post('ben', '/api/canned/create', { scope: 'personal', name: `Ben ${i}`, text: 'ok', channels: ['chat'] })).status).toBe(200);
    expect(await post('ben', '/api/canned/create', { scope: 'personal', name: 'Ben 4', text: 'ok', channels: ['chat'] })).toMatchObject({
      status: 409,
      body: { error: 'you already keep 3 canned answers; delete one first' },
    });
  });

  it('checks the session, Origin and CSRF token as every other write', async () => {
    const body = { scope: 'personal', name: 'x', text: 'x', channels: ['chat'] };
    expect((await post('ana', '/api/canned/create', body, { 'x-csrf-token': 'wrong' })).status).toBe(403);
    expect((await post('ana', '/api/canned/create', body, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await post('ana', '/api/canned/create', body, { cookie: '' })).status).toBe(401);
    expect((await fetch(`${base}/api/canned`)).status).toBe(401);
  });

  it("fills the answers for the conversation's channel, leaving what the desk does not know for the agent", async () => {
    const sms = await post('sue', '/api/canned/create', {
      scope: 'shared',
      name: 'Wait',
      text: 'Hi {{customer.name}}, about {{wait}} (ref {{conversation.reference}})',
      channels: ['sms'],
    });
    const emailOnly = await post('sue', '/api/canned/create', { scope: 'shared', name: 'Email only', text: 'Dear {{customer.name}}', channels: ['email'] });
    const filled = await post('ana', '/api/canned/fill', { conversationId: 'conv-x', channel: 'sms', customerName: '<b>Ada</b>', reference: '' });
    expect(filled.status).toBe(200);
    const answers = filled.body.answers as { id: string; filled: string; missing: string[]; sms: { segments: number } }[];
    expect(answers.map((a) => a.id)).toContain(sms.body.id);
    expect(answers.map((a) => a.id)).not.toContain(emailOnly.body.id);
    const one = answers.find((a) => a.id === sms.body.id)!;
    expect(one.filled).toBe('Hi <b>Ada</b>, about {{wait}} (ref {{conversation.reference}})');
    expect(one.missing).toEqual(['wait', 'conversation.reference']);
    expect(one.sms.segments).toBe(1);
    expect(filled.body.waitNote).toMatch(/^routing gave no wait estimate/);
    // The agent's own name comes from the session.
    const greeting = answers.find((a) => a.filled.includes('Ana Lopez'));
    expect(greeting?.filled).toBe('Hi <b>Ada</b>, Ana Lopez here.');
    // Supervisors do not hold conversations.
    expect((await post('sue', '/api/canned/fill', { conversationId: 'conv-x', channel: 'sms' })).status).toBe(403);
    expect((await post('ana', '/api/canned/fill', { conversationId: 'conv-x', channel: 'fax' })).status).toBe(400);
  });
});
