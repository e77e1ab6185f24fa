// Hostile JSON bodies against the console's POST routes: each gets a specific 4xx with an error
// sentence, never a 500 or a crash, and the console keeps serving.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startHarness, type Harness, type SignedIn } from './harness';

let h: Harness;
let base: string;
let ops: SignedIn;

beforeAll(async () => {
  h = await startHarness();
  base = h.console.url;
  ops = (await signIn(base, h.ids.ops)).session!;
});
afterAll(() => h?.stop());

const field = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string(), { maxKeys: 3 }),
  fc.string({ minLength: 60, maxLength: 2000 }),
);
const hostileBody = fc.oneof(
  fc.record({
    type: fc.constant('application/json'),
    body: fc.dictionary(fc.constantFrom('id', 'password', '__proto__', 'constructor', 'role'), field, { maxKeys: 4 }).map((o) => JSON.stringify(o)),
  }),
  fc.record({ type: fc.constant('application/json'), body: fc.jsonValue().map((v) => JSON.stringify(v)) }),
  fc.record({ type: fc.constant('application/json'), body: fc.string({ maxLength: 200 }) }),
  fc.record({
    type: fc.constant('application/json'),
    body: fc.constantFrom('null', '"x"', '[]', '7', '{"id":{"$gt":""},"password":{"$ne":null}}', '{"id":"   ","password":"x"}', '{'),
  }),
  fc.record({ type: fc.constantFrom('text/plain', ''), body: fc.string({ maxLength: 50 }) }),
  fc.record({ type: fc.constant('application/json'), body: fc.constant(`{"id":"${'x'.repeat(20 * 1024)}"}`) }),
);

async function post(path: string, type: string, body: string, session?: SignedIn) {
  const headers: Record<string, string> = { origin: base, ...(type ? { 'content-type': type } : {}) };
  if (session) Object.assign(headers, { cookie: session.cookie, 'x-csrf-token': session.csrf });
  const res = await fetch(`${base}${path}`, { method: 'POST', headers, body });
  return { status: res.status, answer: (await res.json()) as { error?: unknown } };
}

describe('the ops console against hostile JSON bodies', () => {
  // Replay is tried signed in as ops (no such dead letter: 404) and signed out (401); sign-out
  // only signed out, since a signed-in one rightly succeeds.
  const routes: [string, boolean][] = [
    ['/api/sign-in', false],
    ['/api/dead-letters/999999/123456789/replay', true],
    ['/api/sign-out', false],
  ];
  for (const [path, withSession] of routes) {
    it(`POST ${path} answers a specific 4xx, never a 500`, { timeout: 120_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(hostileBody, fc.boolean(), async ({ type, body }, signedIn) => {
          const { status, answer } = await post(path, type, body, withSession && signedIn ? ops : undefined);
          expect(status, `${body.slice(0, 200)} → ${JSON.stringify(answer)}`).toBeGreaterThanOrEqual(400);
          expect(status).toBeLessThan(500);
          expect(typeof answer.error).toBe('string');
        }),
        { numRuns: path === '/api/sign-out' ? 20 : 60 },
      );
    });
  }

  it('still serves, and the session still works', async () => {
    expect((await fetch(`${base}/api/session`, { headers: { cookie: ops.cookie } })).status).toBe(200);
  });
});
