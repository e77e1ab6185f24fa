// The runner without servers: what goes into each transaction, and what a failed one does.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Presence, Tier } from '#libs/proto';
import { createLogger } from '#libs/observability';
import { RoutingEngine } from '../src/core/engine';
import { DEFAULT_POLICY } from '../src/core/policy';
import type { DecisionBatch } from '../src/decision-log';
import { EngineRunner, NotActiveError } from '../src/runner';

function setup(fail?: () => Error | undefined) {
  const engine = new RoutingEngine(DEFAULT_POLICY, { now: () => Date.UTC(2026, 11, 1, 9) });
  const batches: DecisionBatch[] = [];
  const failures: unknown[] = [];
  const log = {
    commit: async (batch: DecisionBatch) => {
      const err = fail?.();
      if (err) throw err;
      batches.push(batch);
    },
  };
  const runner = new EngineRunner(engine, log, createLogger('runner-test', 'silent'), new Registry(), (err) => failures.push(err));
  return { engine, runner, batches, failures };
}

const register = (engine: RoutingEngine, id: string) =>
  engine.registerAgent({ id, name: id, tier: Tier.TIER_FRONT_OFFICE, skills: { general: 3 }, languages: ['en'] });

describe('the engine runner', () => {
  it('commits a decision with its changelog records, its events and the input position, then answers', async () => {
    const { engine, runner, batches } = setup();
    await runner.run(() => register(engine, 'ana'), { topic: 'in', partition: 1, offset: '8' });
    expect(batches).toHaveLength(1);
    expect(batches[0]!.changelog.map((r) => r.key)).toEqual(['agent/ana']);
    expect(batches[0]!.events.map((e) => e.topic.name)).toEqual(['cc.agent.state.v1']);
    expect(batches[0]!.offsets).toEqual([{ topic: 'in', partition: 1, offset: '8' }]);
  });

  it('lets positions that decided nothing ride along with the next transaction instead of one of their own', async () => {
    const { engine, runner, batches } = setup();
    runner.passOver({ topic: 'events', partition: 0, offset: '40' });
    runner.passOver({ topic: 'events', partition: 0, offset: '41' });
    await runner.run(() => engine.tick());
    expect(batches).toHaveLength(0);
    await runner.run(() => register(engine, 'bo'), { topic: 'in', partition: 2, offset: '3' });
    expect(batches).toHaveLength(1);
    expect(batches[0]!.offsets).toEqual([
      { topic: 'in', partition: 2, offset: '3' },
      { topic: 'events', partition: 0, offset: '41' },
    ]);
  });

  it('stands down on a failed transaction: the callers and every later command get NotActiveError', async () => {
    let failing = true;
    const { engine, runner, failures } = setup(() => (failing ? new Error('broker gone') : undefined));
    await expect(runner.run(() => register(engine, 'cy'))).rejects.toBeInstanceOf(NotActiveError);
    expect(failures).toHaveLength(1);
    failing = false;
    await expect(runner.run(() => engine.setPresence('cy', Presence.PRESENCE_AVAILABLE))).rejects.toBeInstanceOf(NotActiveError);
    expect(() => runner.passOver({ topic: 'events', partition: 0, offset: '1' })).toThrow(NotActiveError);
  });
});
