// Routing's gRPC edge against hostile requests from signed-in people, over real gRPC: whatever
// the fields hold, each call gets an answer or a specific refusal (invalid, not found, not now,
// not yours), never an internal failure, and the service keeps answering ordinary calls.
import { status, type ServiceError } from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testContext, uniqueId } from '#libs/testing';
import type { ServiceContext } from '#libs/service';
import { startRouting } from '../src/service';
import { client, configFor, useRoutingHarness } from './helpers';

const h = useRoutingHarness();
let ctx: ServiceContext;
let port: number;

beforeAll(async () => {
  ctx = testContext('routing-hostile');
  port = (await startRouting(ctx, configFor(h.database('routing_hostile'), uniqueId('routing-hostile')))).grpcPort;
});
afterAll(() => ctx?.stop());

const SPECIFIC = new Set([
  status.OK,
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.FAILED_PRECONDITION,
  status.PERMISSION_DENIED,
  status.ALREADY_EXISTS,
  status.RESOURCE_EXHAUSTED,
]);
const text = fc.oneof(fc.constant(''), fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }), fc.constant('y'.repeat(20_000)));
const enumValue = fc.integer({ min: -3, max: 12 });

it('answers hostile requests with a specific status and keeps serving', { timeout: 180_000 }, async () => {
  const agentId = uniqueId('agent');
  const agent = await client(port, agentId, 'agent');
  const supervisor = await client(port, uniqueId('sup'), 'supervisor');
  type Call = { method: keyof typeof agent.raw; request: Record<string, unknown>; as: 'agent' | 'supervisor' };
  const calls: fc.Arbitrary<Call> = fc.oneof(
    fc.record({
      method: fc.constant('registerAgent' as const),
      as: fc.constant('agent' as const),
      request: fc.record({
        agentId: fc.constantFrom(agentId, ''),
        name: text,
        tier: enumValue,
        skills: fc.array(fc.record({ name: text, level: fc.integer({ min: -5, max: 99 }) }), { maxLength: 120 }),
        languages: fc.array(text, { maxLength: 25 }),
        capacity: fc.array(fc.record({ channel: enumValue, capacity: fc.integer(), active: fc.integer() }), { maxLength: 8 }),
        totalCapacity: fc.integer(),
      }),
    }),
    fc.record({
      method: fc.constant('setPresence' as const),
      as: fc.constant('agent' as const),
      request: fc.record({ agentId: fc.constantFrom(agentId, '', 'someone-else'), presence: enumValue }),
    }),
    fc.record({
      method: fc.constantFrom('acceptOffer' as const, 'declineOffer' as const),
      as: fc.constant('agent' as const),
      request: fc.record({ conversationId: text }),
    }),
    fc.record({
      method: fc.constant('reply' as const),
      as: fc.constant('agent' as const),
      request: fc.record({ conversationId: text, text, subject: text, attachments: fc.constant([]) }),
    }),
    fc.record({
      method: fc.constant('escalate' as const),
      as: fc.constant('agent' as const),
      request: fc.record({ conversationId: text, note: text, skill: text }),
    }),
    fc.record({
      method: fc.constant('transfer' as const),
      as: fc.constant('agent' as const),
      request: fc.record({ conversationId: text, toAgentId: text, toQueue: text, note: text }),
    }),
    fc.record({ method: fc.constant('resolve' as const), as: fc.constant('agent' as const), request: fc.record({ conversationId: text, disposition: text }) }),
    fc.record({
      method: fc.constant('reassign' as const),
      as: fc.constant('supervisor' as const),
      request: fc.record({ conversationId: text, toAgentId: text }),
    }),
    fc.record({ method: fc.constant('getWaitEstimate' as const), as: fc.constant('supervisor' as const), request: fc.record({ conversationId: text }) }),
  );
  const outcomes: string[] = [];
  for (const c of fc.sample(calls, { numRuns: 60, seed: 7 })) {
    const who = c.as === 'agent' ? agent : supervisor;
    const code = await who.call(who.raw[c.method] as never, c.request as never).then(
      () => status.OK,
      (err: ServiceError) => err.code,
    );
    if (!SPECIFIC.has(code)) outcomes.push(`${c.method} → ${status[code]}`);
  }
  expect(outcomes).toEqual([]);
  // Still serving: the agent registers properly and is listed.
  await agent.call(
    agent.raw.registerAgent as never,
    { agentId, name: 'Ana', tier: 1, skills: [{ name: 'general', level: 3 }], languages: ['en'], capacity: [], totalCapacity: 0 } as never,
  );
  const listed = await supervisor.call<object, { agents: { agentId: string }[] }>(supervisor.raw.listAgents as never, {});
  expect(listed.agents.map((a) => a.agentId)).toContain(agentId);
  agent.close();
  supervisor.close();
});
