// Routing's part of a contact's trace. A conversation's trace context is kept here from the
// contact that opened it, so that what routing does later for it (the offer on an agent's
// stream, the agent's reply, the events and outbound messages it publishes) continues the same
// trace. Kept in memory, the newest conversations only; an instance taking over starts new
// traces for the conversations it did not see arrive. Nothing is kept with tracing off.
import { context, trace, type Context } from '@opentelemetry/api';
import type { Metadata } from '@grpc/grpc-js';
import { consumedContext, type ConsumedEvent } from '#libs/kafka';
import type { ContactReceived, WatchAssignmentsResponse } from '#libs/proto';
import { extractContext, failed, inSpan, injectContext, linkTo, sameTrace, SpanKind, tracer, tracingOn } from '#libs/tracing';

const MAX_CONVERSATIONS = 50_000;
const contexts = new Map<string, Context>();

function remember(conversationId: string, ctx: Context): void {
  contexts.delete(conversationId);
  contexts.set(conversationId, ctx);
  if (contexts.size > MAX_CONVERSATIONS) contexts.delete(contexts.keys().next().value!);
}

/** The trace headers for a record routing publishes about a conversation (keyed by its id), if it has a trace. */
export function conversationTraceHeaders(conversationId: string): Record<string, string> | undefined {
  if (!tracingOn()) return undefined;
  const ctx = contexts.get(conversationId);
  if (!ctx) return undefined;
  const headers: Record<string, string> = {};
  injectContext((name, value) => (headers[name] = value), ctx);
  return headers;
}

/** Decides a batch of contacts with a span per contact, each continuing its contact's trace. */
export async function decideInSpans(contacts: ConsumedEvent<ContactReceived>[], decide: () => Promise<unknown>): Promise<void> {
  if (!tracingOn()) {
    await decide();
    return;
  }
  const spans = contacts.map((contact) => {
    const { conversationId, contactId } = contact.value;
    const attributes = { 'contact_center.conversation_id': conversationId, 'contact_center.contact_id': contactId };
    const span = tracer().startSpan('routing decide', { attributes }, consumedContext(contact));
    remember(conversationId, trace.setSpan(context.active(), span));
    return span;
  });
  try {
    await decide();
  } catch (err) {
    for (const span of spans) failed(span, err);
    throw err;
  } finally {
    for (const span of spans) span.end();
  }
}

/**
 * An agent's call about a conversation (accept, reply, escalate...) in a SERVER span that
 * continues the conversation's trace; the caller's own context (gRPC metadata) is linked, or
 * is the parent when routing knows no trace of the conversation.
 */
export function agentCallInSpan<T>(call: string, metadata: Metadata, request: unknown, handle: () => Promise<T>): Promise<T> {
  const conversationId = (request as { conversationId?: unknown } | null)?.conversationId;
  if (!tracingOn() || typeof conversationId !== 'string' || !conversationId) return handle();
  const caller = extractContext((name) => metadata.get(name)[0]?.toString());
  const known = contexts.get(conversationId);
  const parent = known ?? caller;
  const attributes = {
    'rpc.system': 'grpc',
    'rpc.service': 'contactcenter.v1.RoutingService',
    'rpc.method': call,
    'contact_center.conversation_id': conversationId,
  };
  const links = known && !sameTrace(known, caller) ? linkTo(caller) : [];
  return inSpan(`routing ${call}`, { kind: SpanKind.SERVER, parent, attributes, links }, () => {
    // What this call publishes for the conversation hangs from it.
    remember(conversationId, context.active());
    return handle();
  });
}

/** An offer written to an agent's stream, as a span in the conversation's trace. */
export function offerWritten(agentId: string, update: WatchAssignmentsResponse): void {
  if (!tracingOn() || update.update?.$case !== 'offer') return;
  const conversationId = update.update.offer.conversationId;
  const parent = contexts.get(conversationId);
  if (!parent) return;
  const attributes = { 'contact_center.conversation_id': conversationId, 'contact_center.agent_id': agentId };
  tracer().startSpan('routing offer', { kind: SpanKind.PRODUCER, attributes }, parent).end();
}
