import { describe, expect, it } from 'vitest';
import { describeExit, formatDelay, RestartPolicy } from '../../scripts/restart-policy';

const crash = { code: 1, signal: null };

describe('the restart policy of the start command', () => {
  it('restarts after 1 s, doubling to at most 30 s while the service keeps failing quickly', () => {
    const policy = new RestartPolicy();
    const delays: number[] = [];
    let now = 0;
    for (let i = 0; i < 8; i++) {
      policy.started(now);
      now += 500;
      const decision = policy.exited(crash, now);
      expect(decision).toMatchObject({ action: 'restart', restart: i + 1 });
      if (decision.action === 'restart') delays.push(decision.delayMs);
      now += decision.action === 'restart' ? decision.delayMs : 0;
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('starts again from 1 s after the service stayed up a minute, and keeps counting restarts', () => {
    const policy = new RestartPolicy();
    policy.started(0);
    policy.exited(crash, 100);
    policy.started(1100);
    expect(policy.exited({ code: null, signal: 'SIGKILL' }, 1200)).toEqual({ action: 'restart', delayMs: 2000, restart: 2 });
    policy.started(3200);
    expect(policy.exited({ code: null, signal: 'SIGKILL' }, 3200 + 60_000)).toEqual({ action: 'restart', delayMs: 1000, restart: 3 });
  });

  it('does not restart a configuration error (exit code 2)', () => {
    const policy = new RestartPolicy();
    policy.started(0);
    const decision = policy.exited({ code: 2, signal: null }, 10);
    expect(decision.action).toBe('stop');
    expect(decision.action === 'stop' && decision.reason).toMatch(/configuration error \(exit code 2\)/);
  });

  it('gives up after ten quick failures in a row', () => {
    const policy = new RestartPolicy({ maxConsecutiveFailures: 10 });
    let now = 0;
    const actions: string[] = [];
    for (let i = 0; i < 11; i++) {
      policy.started(now);
      now += 10;
      const decision = policy.exited(crash, now);
      actions.push(decision.action);
      if (decision.action === 'restart') now += decision.delayMs;
      else expect(decision.reason).toMatch(/11 times in a row, each within 60 s of starting; giving up/);
    }
    expect(actions).toEqual([...Array(10).fill('restart'), 'stop']);
  });

  it('says how a service exited and how long it waits', () => {
    expect(describeExit({ code: null, signal: 'SIGKILL' })).toBe('SIGKILL');
    expect(describeExit({ code: 1, signal: null })).toBe('code 1');
    expect([formatDelay(2000), formatDelay(500), formatDelay(30_000)]).toEqual(['2 s', '0.5 s', '30 s']);
  });
});
