// Trace context in Kafka records: the W3C traceparent and tracestate headers beside the
// CloudEvents ones (the CloudEvents distributed-tracing extension names exactly these), a
// PRODUCER span per publish and a CONSUMER span per record handled. Nothing with tracing off.
import { trace, type Context } from '@opentelemetry/api';
import type { IHeaders } from 'kafkajs';
import { extractContext, failed, inSpan, injectContext, SpanKind, tracer, tracingOn } from '../tracing';
import { headerString } from './cloudevents';
import type { ConsumedEvent } from './consumer-types';

/** The context a record carries in its headers (the root context when none, or with tracing off). */
function recordContext(headers: IHeaders | undefined): Context {
  return extractContext((name) => headerString(headers, name));
}

/** Publishes in a PRODUCER span whose context goes into `headers` (changed in place). */
export function publishInSpan<T>(topic: string, headers: Record<string, string>, publish: () => Promise<T>): Promise<T> {
  if (!tracingOn()) return publish();
  const attributes = {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'send',
    'messaging.destination.name': topic,
    'messaging.message.id': headers.ce_id,
  };
  return inSpan(`send ${topic}`, { kind: SpanKind.PRODUCER, attributes }, () => {
    injectContext((name, value) => (headers[name] = value));
    return publish();
  });
}

function consumeAttributes(group: string, consumed: ConsumedEvent<unknown>) {
  return {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'process',
    'messaging.destination.name': consumed.topic,
    'messaging.destination.partition.id': String(consumed.partition),
    'messaging.consumer.group.name': group,
    'messaging.kafka.offset': Number(consumed.offset),
    'messaging.message.id': consumed.event.id,
    'cloudevents.event_type': consumed.event.type,
  };
}

/** Runs a record's handler in a CONSUMER span whose parent is the record's context. */
export function processInSpan(group: string, consumed: ConsumedEvent<unknown>, handle: () => Promise<void> | void): Promise<void> | void {
  if (!tracingOn()) return handle();
  const parent = recordContext(consumed.headers);
  return inSpan(`process ${consumed.topic}`, { kind: SpanKind.CONSUMER, parent, attributes: consumeAttributes(group, consumed) }, handle);
}

/** The CONSUMER span each record of a batch is handled in, for a batch handler to continue from. */
const batchSpans = new WeakMap<ConsumedEvent<unknown>, Context>();

/**
 * Runs a batch handler with a CONSUMER span per record (each the child of its record's
 * context, so every contact keeps its own trace), all ended with the batch's outcome.
 */
export async function processBatchInSpans(group: string, events: ConsumedEvent<unknown>[], handle: () => Promise<void>): Promise<void> {
  if (!tracingOn() || events.length === 0) return handle();
  const spans = events.map((consumed) => {
    const parent = recordContext(consumed.headers);
    const span = tracer().startSpan(`process ${consumed.topic}`, { kind: SpanKind.CONSUMER, attributes: consumeAttributes(group, consumed) }, parent);
    batchSpans.set(consumed, trace.setSpan(parent, span));
    return span;
  });
  try {
    await handle();
  } catch (err) {
    for (const span of spans) failed(span, err);
    throw err;
  } finally {
    for (const span of spans) span.end();
  }
}

/** The context a batch handler continues a record's trace from: its CONSUMER span's, else the record's own. */
export function consumedContext(consumed: ConsumedEvent<unknown>): Context {
  return batchSpans.get(consumed) ?? recordContext(consumed.headers);
}
