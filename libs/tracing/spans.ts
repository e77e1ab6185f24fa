// Spans for the edges. Off unless the SDK was started (sdk.ts): then every helper here only
// checks one flag and calls through, so a service without a collector pays nothing per record.
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span } from '@opentelemetry/api';

export { SpanKind, type Context };

let on = false;

/** True once the SDK exports spans. */
export function tracingOn(): boolean {
  return on;
}

/** Called by the SDK start (and by tests that register a provider of their own). */
export function setTracingOn(value: boolean): void {
  on = value;
}

export const tracer = () => trace.getTracer('contact-center');

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent; by default the active context. */
  parent?: Context;
  links?: Link[];
}

/** Runs `fn` in a new active span, ended with its outcome; with tracing off, just runs it. */
export function inSpan<T>(name: string, options: SpanOptions, fn: (span?: Span) => Promise<T> | T): Promise<T> {
  if (!on) {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }
  const span = tracer().startSpan(name, { kind: options.kind, attributes: options.attributes, links: options.links }, options.parent ?? context.active());
  return context.with(trace.setSpan(options.parent ?? context.active(), span), async () => {
    try {
      return await fn(span);
    } catch (err) {
      failed(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Marks a span as failed with the error's kind; the message stays out (it may quote customer data). */
export function failed(span: Span, err: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : typeof err });
}

/** A context from carried W3C headers (traceparent, tracestate); the root context when there are none. */
export function extractContext(get: (name: string) => string | undefined): Context {
  if (!on) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, undefined, { get: (_c, key) => get(key), keys: () => ['traceparent', 'tracestate'] });
}

/** Writes the W3C headers of `ctx` (by default the active context) with `set`. */
export function injectContext(set: (name: string, value: string) => void, ctx: Context = context.active()): void {
  if (!on) return;
  propagation.inject(ctx, undefined, { set: (_c, key, value) => set(key, value) });
}

/** The active span's ids, for log lines; empty with tracing off or outside a span (pino merges into it: a new object each time). */
export function activeTraceIds(): { trace_id?: string; span_id?: string } {
  const span = on ? trace.getSpan(context.active()) : undefined;
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** A link to the span a context carries, if any. */
export function linkTo(ctx: Context): Link[] {
  const span = trace.getSpan(ctx);
  return span ? [{ context: span.spanContext() }] : [];
}

/** Whether two contexts carry the same trace. */
export function sameTrace(a: Context, b: Context): boolean {
  return trace.getSpan(a)?.spanContext().traceId === trace.getSpan(b)?.spanContext().traceId;
}
