import { describe, expect, it } from 'vitest';
import { TransientError } from '../faults';
import { createLogger } from '../observability/logger';
import { HandlerAttempts } from './consumer-attempts';
import { ConsumerHealth } from './consumer-health';
import { InvalidEventError, RetryLaterError } from './errors';

const log = createLogger('test', 'silent');
const where = { topic: 'cc.contact.inbound.v1', partition: 0, offset: '3' };
const attemptsWith = (maxAttempts = 3) =>
  new HandlerAttempts({
    health: new ConsumerHealth('projection', log),
    log,
    maxAttempts,
    backoffMs: 1,
    transientBackoff: { initialMs: 1, maxMs: 1, jitter: 0 },
  });
const control = (keepGoing = () => true) => ({ heartbeat: async () => undefined, keepGoing });

describe('HandlerAttempts', () => {
  it('says handled when the handler succeeds', async () => {
    expect(
      await attemptsWith().run(
        where,
        () => undefined,
        control(),
        async () => 'gave up',
      ),
    ).toBe('handled');
  });

  it('gives an invalid record up at once, without retrying', async () => {
    let calls = 0;
    const reasons: unknown[] = [];
    const outcome = await attemptsWith().run(
      where,
      () => {
        calls++;
        throw new InvalidEventError('no conversation id');
      },
      control(),
      async (reason, _err, attempts) => (reasons.push([reason, attempts]), 'dead-lettered'),
    );
    expect(outcome).toBe('dead-lettered');
    expect(calls).toBe(1);
    expect(reasons).toEqual([['invalid', undefined]]);
  });

  it('gives a failing record up after the attempts, saying how many', async () => {
    let calls = 0;
    const reasons: unknown[] = [];
    const outcome = await attemptsWith(3).run(
      where,
      () => {
        calls++;
        throw new Error('bad state');
      },
      control(),
      async (reason, _err, attempts) => (reasons.push([reason, attempts]), 'dead-lettered'),
    );
    expect(outcome).toBe('dead-lettered');
    expect(calls).toBe(3);
    expect(reasons).toEqual([['handler-failed', 3]]);
  });

  it('keeps retrying while a dependency is down, beyond the attempts, until it comes back', async () => {
    let calls = 0;
    const outcome = await attemptsWith(2).run(
      where,
      () => {
        if (++calls < 5) throw new TransientError('store unreachable');
      },
      control(),
      async () => 'gave up',
    );
    expect(outcome).toBe('handled');
    expect(calls).toBe(5);
  });

  it('leaves a record waiting on a dependency for later when the consumer stops', async () => {
    let going = true;
    const run = attemptsWith().run(
      where,
      () => {
        going = false;
        throw new TransientError('store unreachable');
      },
      control(() => going),
      async () => 'gave up',
    );
    await expect(run).rejects.toBeInstanceOf(RetryLaterError);
  });
});
