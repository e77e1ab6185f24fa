import { SpanKind, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inSpan } from '../tracing';
import { recordSpans } from '../tracing/testing';
import { cloudEventHeaders } from './cloudevents';
import type { ConsumedEvent } from './consumer-types';
import { consumedContext, processBatchInSpans, processInSpan, publishInSpan } from './tracing';

let spans: ReturnType<typeof recordSpans>;
beforeAll(() => (spans = recordSpans()));
afterAll(() => spans.stop());

const consumedWith = (headers: Record<string, string>, offset = '7'): ConsumedEvent<unknown> => ({
  value: {},
  event: { id: headers.ce_id!, source: 'test', type: headers.ce_type!, time: headers.ce_time!, specversion: '1.0' },
  topic: 'cc.contact.inbound.v1',
  partition: 0,
  offset,
  key: 'conv-1',
  headers,
});

describe('trace context in Kafka records', () => {
  it('carries the publishing span in traceparent, and the consumer continues it', async () => {
    const headers = cloudEventHeaders('contactcenter.contact.received.v1', 'test');
    await inSpan('smtp receive', { kind: SpanKind.SERVER }, () => publishInSpan('cc.contact.inbound.v1', headers, async () => undefined));
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    await processInSpan('projection', consumedWith(headers), () => inSpan('store write', {}, async () => undefined));
    const finished = spans.exporter.getFinishedSpans();
    const byName = new Map(finished.map((s) => [s.name, s]));
    const edge = byName.get('smtp receive')!;
    const send = byName.get('send cc.contact.inbound.v1')!;
    const process = byName.get('process cc.contact.inbound.v1')!;
    const write = byName.get('store write')!;
    expect(new Set(finished.map((s) => s.spanContext().traceId))).toEqual(new Set([edge.spanContext().traceId]));
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.parentSpanContext?.spanId).toBe(edge.spanContext().spanId);
    expect(headers.traceparent).toContain(send.spanContext().spanId);
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(process.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.consumer.group.name': 'projection', 'messaging.kafka.offset': 7 });
    expect(write.parentSpanContext?.spanId).toBe(process.spanContext().spanId);
  });

  it('gives each record of a batch its own consumer span in its own trace', async () => {
    spans.exporter.reset();
    const first = cloudEventHeaders('t', 'test');
    const second = cloudEventHeaders('t', 'test');
    await publishInSpan('a', first, async () => undefined);
    await publishInSpan('a', second, async () => undefined);
    const events = [consumedWith(first, '1'), consumedWith(second, '2')];
    let continued: string[] = [];
    await processBatchInSpans('routing', events, async () => {
      continued = events.map((e) => trace.getSpan(consumedContext(e))!.spanContext().spanId);
    });
    const consumers = spans.exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CONSUMER);
    expect(consumers.map((s) => s.spanContext().traceId)).toEqual([first, second].map((h) => h.traceparent!.split('-')[1]));
    // The handler continues each record from its own consumer span.
    expect(continued).toEqual(consumers.map((s) => s.spanContext().spanId));
  });

  it('leaves the headers alone with tracing off', async () => {
    await spans.stop();
    const headers = cloudEventHeaders('t', 'test');
    await publishInSpan('a', headers, async () => undefined);
    expect(headers.traceparent).toBeUndefined();
    spans = recordSpans();
  });
});
