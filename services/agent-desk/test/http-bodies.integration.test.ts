// Hostile JSON bodies against every POST route of the desk, signed in with a role that may use
// it: each gets a specific 4xx with an error sentence, never a 500 or a crash. A body that
// happens to be a valid form reaches routing, which is down here: 503, as any valid request.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { loadConfig } from '#libs/config';
import { dropDatabase, MONGODB_URI, testAuthEnv, testContext, uniqueId } from '#libs/testing';
import { cannedForms } from '../src/canned-forms';
import { forms } from '../src/forms';
import { agentDeskConfig, startAgentDesk, type RunningAgentDesk } from '../src/service';

const PASSWORD = 'correct horse battery';
const database = uniqueId('desk_bodies').replace(/-/g, '_');
const ctx = testContext('agent-desk');
let desk: RunningAgentDesk;
let base: string;
const sessions: Record<'agent' | 'expert' | 'supervisor', { cookie: string; csrf: string }> = {} as never;

beforeAll(async () => {
  desk = await startAgentDesk(
    ctx,
    loadConfig(agentDeskConfig, {
      AGENT_DESK_FOLLOW_DELIVERIES: 'false',
      MONGODB_URI,
      HTTP_PORT: '0',
      ...testAuthEnv('agent-desk'),
      AGENT_DESK_SESSION_SECRET: 'agent-desk-bodies-test-secret-0123456789',
      STAFF_DB: database,
      ROUTING_GRPC_ADDR: '127.0.0.1:9',
      CUSTOMER_RECORD_GRPC_ADDR: '127.0.0.1:9',
    }),
  );
  base = `http://127.0.0.1:${desk.port}`;
  for (const role of ['agent', 'expert', 'supervisor'] as const) {
    await desk.roster.upsert({ id: `${role}-1`, name: role, role }, PASSWORD);
    const res = await fetch(`${base}/api/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ id: `${role}-1`, password: PASSWORD }),
    });
    sessions[role] = { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: ((await res.json()) as { csrf: string }).csrf };
  }
});
afterAll(async () => {
  await ctx.stop();
  await dropDatabase(database);
});

const field = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string(), { maxKeys: 3 }),
  fc.string({ minLength: 300, maxLength: 12_000 }),
);
const keys = [
  'id',
  'password',
  'conversationId',
  'presence',
  'text',
  'subject',
  'note',
  'skill',
  'toAgentId',
  'toQueue',
  'disposition',
  'scope',
  'name',
  'channels',
  'channel',
  'version',
  'customerName',
  'reference',
  '__proto__',
  'constructor',
];
/** What a hostile client sends: the raw body and its content type. */
const hostileBody = fc.oneof(
  fc.record({ type: fc.constant('application/json'), body: fc.dictionary(fc.constantFrom(...keys), field, { maxKeys: 6 }).map((o) => JSON.stringify(o)) }),
  fc.record({ type: fc.constant('application/json'), body: fc.jsonValue().map((v) => JSON.stringify(v)) }),
  fc.record({ type: fc.constant('application/json'), body: fc.string({ maxLength: 200 }) }),
  fc.record({
    type: fc.constant('application/json'),
    body: fc.constantFrom(
      '{"__proto__":{"role":"supervisor"}}',
      '{"id":{"$gt":""},"password":{"$ne":null}}',
      '[',
      '{"a":' + '['.repeat(5000),
      'null',
      '"x"',
      '1e309',
    ),
  }),
  fc.record({ type: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', ''), body: fc.string({ maxLength: 50 }) }),
  fc.record({ type: fc.constant('application/json'), body: fc.constant(`{"text":"${'x'.repeat(70 * 1024)}"}`) }),
);

type Role = keyof typeof sessions;
/** A route, who calls it, its form, and what a valid form gets (routing's routes: 503, routing is down here). */
const routes: [string, Role | null, z.ZodType, number[]?][] = [
  ['/api/sign-in', null, forms.signIn],
  ['/api/presence', 'agent', forms.presence],
  ['/api/accept', 'agent', forms.conversation],
  ['/api/decline', 'expert', forms.conversation],
  ['/api/reply', 'agent', forms.reply],
  ['/api/escalate', 'agent', forms.escalate],
  ['/api/transfer', 'expert', forms.transfer],
  ['/api/hand-back', 'expert', forms.handBack],
  ['/api/resolve', 'agent', forms.resolve],
  ['/api/reassign', 'supervisor', forms.reassign],
  ['/api/promise', 'agent', forms.promise],
  ['/api/canned/create', 'supervisor', cannedForms.create, [200, 400]],
  ['/api/canned/update', 'agent', cannedForms.update, [404, 400]],
  ['/api/canned/delete', 'agent', cannedForms.remove, [404]],
  ['/api/canned/fill', 'expert', cannedForms.fill, [200]],
];

describe('the desk against hostile JSON bodies', () => {
  for (const [path, role, schema, validStatus = [503]] of routes) {
    it(`POST ${path} answers a specific 4xx, never a 500`, { timeout: 120_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(hostileBody, async ({ type, body }) => {
          const headers: Record<string, string> = { origin: base, ...(type ? { 'content-type': type } : {}) };
          if (role) Object.assign(headers, { cookie: sessions[role].cookie, 'x-csrf-token': sessions[role].csrf });
          const res = await fetch(`${base}${path}`, { method: 'POST', headers, body });
          const answer = (await res.json()) as { error?: unknown };
          let valid = false;
          try {
            valid = type === 'application/json' && schema.safeParse(JSON.parse(body) ?? {}).success;
          } catch {
            valid = false;
          }
          // A valid form reaches routing (down here) or the store. Anything else is the client's fault.
          if (valid && role) expect(validStatus).toContain(res.status);
          else {
            expect(res.status, `${body.slice(0, 200)} → ${JSON.stringify(answer)}`).toBeGreaterThanOrEqual(400);
            expect(res.status).toBeLessThan(500);
          }
          expect(typeof answer.error).toBe('string');
        }),
        { numRuns: 40 },
      );
      // Still serving, and the sessions still work.
      expect((await fetch(`${base}/api/me`, { headers: { cookie: sessions.agent.cookie } })).status).toBe(200);
    });
  }
});
