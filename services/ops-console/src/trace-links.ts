// The trace behind an event: the trace id of a record's W3C traceparent header, and the link
// to it in the configured trace UI (OPS_CONSOLE_TRACE_URL, `{traceId}` replaced). Pure.

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The trace id a traceparent names; undefined when absent, malformed or all zeros (invalid by the spec). */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  const id = traceparent ? TRACEPARENT.exec(traceparent.trim())?.[1] : undefined;
  return id && !/^0+$/.test(id) ? id : undefined;
}

/** The trace UI's address of a trace; undefined without a template. */
function traceUrl(template: string | undefined, traceId: string | undefined): string | undefined {
  return template && traceId ? template.split('{traceId}').join(traceId) : undefined;
}

/** A record as sent to the browser: with the link to its trace when there is a trace UI. */
export function withTraceLink<T extends { traceId?: string }>(record: T, template: string | undefined): T & { traceUrl?: string } {
  const url = traceUrl(template, record.traceId);
  return url ? { ...record, traceUrl: url } : record;
}
