// A visitor's message: numbered once, published to routing, and acked only once Kafka took it.
import { KafkaUnavailableError } from '#libs/kafka';
import { errorDetails } from '#libs/observability';
import { notAccepted } from './answers';
import { waitFrame } from './conversation';
import { visitorContact } from './events';
import type { ChatParts } from './parts';
import type { VisitorSession } from './session';
import type { MessageDoc } from './store';
import type { VisitorClaims } from './token';

type MessageParts = Pick<ChatParts, 'config' | 'store' | 'events' | 'connected' | 'metrics' | 'log'>;

function acked({ metrics }: MessageParts, session: VisitorSession, clientMessageId: string, seq: number, started: bigint): void {
  metrics.frames.inc({ outcome: 'accepted' });
  session.send({ type: 'ack', clientMessageId, seq });
  metrics.ackLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
}

/** A visitor's message as first claimed: unnumbered, not yet accepted, keyed by the widget's id. */
export function visitorDraft(conversationId: string, clientMessageId: string, text: string): MessageDoc {
  return {
    _id: `${conversationId}/c/${clientMessageId}`,
    conversationId,
    seq: 0,
    from: 'visitor',
    kind: 'message',
    text,
    clientMessageId,
    at: new Date(),
    accepted: false,
  };
}

export async function visitorMessage(
  parts: MessageParts,
  session: VisitorSession,
  claims: VisitorClaims,
  clientMessageId: string,
  text: string,
): Promise<void> {
  const { config, store, events, connected, metrics, log } = parts;
  const started = process.hrtime.bigint();
  // The message is claimed under its key, numbered by a unique insert, published, and only
  // once Kafka acknowledged it marked accepted and acked. A resend finds the claim: acked
  // already, it gets the same ack; refused by Kafka before, it is published again with the
  // same number and ce_id, so numbers stay 1, 2, 3… on every instance.
  const draft = visitorDraft(claims.conversationId, clientMessageId, text);
  const [stored] = await Promise.all([store.claim(draft), store.ensureConversation(claims)]);
  if (stored?.accepted) return acked(parts, session, clientMessageId, stored.seq, started);
  const doc = stored ?? { ...draft, ...(await store.number(draft)) };
  const numbered = { seq: doc.seq, newConversation: doc.newConversation ?? false };
  const contact = visitorContact(claims, session, { clientMessageId, seq: doc.seq, text: doc.text, at: doc.at, newConversation: numbered.newConversation });
  try {
    await events.visitorMessage(contact);
  } catch (err) {
    if (!(err instanceof KafkaUnavailableError)) throw err;
    // The number stays with the message: its resend takes it again.
    if (!stored) await store.markNumbered(doc._id, { ...numbered, accepted: false });
    metrics.frames.inc({ outcome: 'not-accepted' });
    log.warn({ conversationId: claims.conversationId, ...errorDetails(err) }, 'visitor message not accepted: Kafka unavailable');
    session.send(notAccepted.message(clientMessageId));
    return;
  }
  await store.markNumbered(doc._id, { ...numbered, accepted: true });
  acked(parts, session, clientMessageId, doc.seq, started);
  if (numbered.newConversation) connected.deliver(claims.conversationId, waitFrame(await store.fact(claims.conversationId, 'wait'), config.CHAT_SLA_TARGET_MS));
}
