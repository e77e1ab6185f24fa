import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { activeTraceIds, inSpan, tracingOn } from './spans';
import { recordSpans } from './testing';

function captured() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>), done()) });
  return { lines, logger: pino({ mixin: activeTraceIds }, stream) };
}

describe('spans at the edges', () => {
  it('with tracing off runs the work as it is, and log lines carry no trace ids', async () => {
    expect(tracingOn()).toBe(false);
    const { lines, logger } = captured();
    await expect(inSpan('x', {}, () => 42)).resolves.toBe(42);
    await expect(inSpan('x', {}, () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    await inSpan('x', {}, () => logger.info('inside'));
    expect(lines[0]).not.toHaveProperty('trace_id');
  });

  it("puts the active span's trace and span ids on log lines, and records a failure's kind, not its message", async () => {
    const spans = recordSpans();
    try {
      const { lines, logger } = captured();
      await inSpan('work', {}, () => logger.info('inside'));
      logger.info('outside');
      await expect(inSpan('broken', {}, () => Promise.reject(new TypeError('customer@example.com')))).rejects.toThrow(TypeError);
      const [work, broken] = spans.exporter.getFinishedSpans();
      expect(lines[0]).toMatchObject({ trace_id: work!.spanContext().traceId, span_id: work!.spanContext().spanId });
      expect(lines[1]).not.toHaveProperty('trace_id');
      expect(broken!.status).toEqual({ code: 2, message: 'TypeError' });
    } finally {
      await spans.stop();
    }
  });
});
