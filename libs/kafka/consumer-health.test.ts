import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../observability/logger';
import { ConsumerHealth, STALLED_AFTER_MS } from './consumer-health';

afterEach(() => vi.useRealTimers());

describe('ConsumerHealth', () => {
  it('says a partition is held once a handler has not returned for the stall limit, and ready again when it returns', () => {
    vi.useFakeTimers({ now: new Date('2026-12-01T10:00:00Z') });
    const health = new ConsumerHealth('projection', createLogger('test', 'silent'));
    const ended = health.handling({ topic: 'cc.contact.inbound.v1', partition: 1, offset: '42' });
    vi.advanceTimersByTime(STALLED_AFTER_MS - 1000);
    expect(health.readiness(true)).toBe(true);
    vi.advanceTimersByTime(2000);
    expect(health.readiness(true)).toEqual({ ready: false, detail: 'a handler on cc.contact.inbound.v1/1 at offset 42 has not returned for 31 s' });
    ended();
    expect(health.readiness(true)).toBe(true);
  });

  it('gives a record waiting on a dependency as the reason first', () => {
    const health = new ConsumerHealth('projection', createLogger('test', 'silent'));
    const where = { topic: 'cc.contact.inbound.v1', partition: 0, offset: '7' };
    health.handling(where);
    health.wait(undefined, where, new Error('connect ECONNREFUSED 127.0.0.1:27017'));
    expect(health.readiness(true)).toMatchObject({ ready: false, detail: expect.stringContaining('waiting for a dependency') });
    expect(health.readiness(false)).toEqual({ ready: false, detail: 'not consuming (starting or stopped)' });
  });
});
