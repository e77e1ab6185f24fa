// What became of the messages the desk wrote first, without I/O. Routing accepts a write at once;
// the channel decides later whether it goes out (sms-voice refuses a number that replied STOP,
// WhatsApp outside its window, a provider may fail), and says so in a DeliveryReported event on the
// conversation. The desk keeps those reports for the conversations it names (`conv-desk-…`,
// `conv-notice-…`), so a writer sees "queued" turn into what really happened.

export interface DeliveryNote {
  outboundMessageId: string;
  delivered: boolean;
  code: string;
  detail: string;
  permanent: boolean;
}

export type DeliveryState = 'queued' | 'sent' | 'opted-out' | 'window-closed' | 'failed' | 'retrying';

export interface DeliveryView {
  state: DeliveryState;
  /** In the writer's words. */
  words: string;
}

/** The conversations the desk starts, and so follows. */
export function followedConversation(conversationId: string): boolean {
  return /^conv-(desk|notice)-/.test(conversationId);
}

const WINDOW_CODES = new Set(['WHATSAPP_WINDOW_CLOSED', '63016']);

function viewOf(n: DeliveryNote): DeliveryView {
  if (n.delivered) return { state: 'sent', words: 'Sent: the provider accepted it for the customer.' };
  if (n.code === 'OPTED_OUT')
    return { state: 'opted-out', words: 'Not sent: the customer opted out (replied STOP). Nothing goes to them until they reply START.' };
  if (WINDOW_CODES.has(n.code)) return { state: 'window-closed', words: `Not sent: ${n.detail}` };
  if (!n.permanent) return { state: 'retrying', words: `Not sent yet, may still go out: ${n.detail} (${n.code})` };
  return { state: 'failed', words: `Not sent: ${n.detail || 'the channel refused it'} (${n.code || 'no code'})` };
}

/**
 * Where the conversation's first message stands: queued until a report comes; a failure reported
 * later (a carrier's report on the sent message) outweighs an earlier "sent".
 */
export function deliveryView(notes: readonly DeliveryNote[]): DeliveryView {
  let view: DeliveryView = { state: 'queued', words: 'Queued: waiting for the channel to report the delivery.' };
  for (const n of notes) {
    const next = viewOf(n);
    if (view.state === 'sent' || view.state === 'queued' || view.state === 'retrying' || next.state !== 'sent') view = next;
  }
  return view;
}

/** The reports of the conversations followed, the oldest conversation forgotten first beyond `max`. */
export class DeliveryBook {
  private readonly notes = new Map<string, DeliveryNote[]>();

  constructor(private readonly max = 50_000) {}

  record(conversationId: string, note: DeliveryNote): void {
    const known = this.notes.get(conversationId) ?? [];
    // A redelivered report (same message, same outcome) is the same note.
    if (known.some((k) => k.outboundMessageId === note.outboundMessageId && k.delivered === note.delivered && k.code === note.code)) return;
    this.notes.set(conversationId, [...known, note].slice(-20));
    if (this.notes.size > this.max) this.notes.delete(this.notes.keys().next().value!);
  }

  of(conversationId: string): DeliveryNote[] {
    return this.notes.get(conversationId) ?? [];
  }
}

export interface NoticeDeliveries {
  sent: number;
  optedOut: number;
  notSent: number;
  queued: number;
  /** Customers whose message did not go out, and why (at most the first 100). */
  problems: { customerId: string; state: DeliveryState; why: string }[];
}

/** A notice's conversations, customer by customer, as their reports say. */
export function noticeDeliveries(book: DeliveryBook, started: readonly { customerId: string; conversationId: string }[]): NoticeDeliveries {
  const d: NoticeDeliveries = { sent: 0, optedOut: 0, notSent: 0, queued: 0, problems: [] };
  for (const s of started) {
    const view = deliveryView(book.of(s.conversationId));
    if (view.state === 'sent') d.sent++;
    else if (view.state === 'queued' || view.state === 'retrying') d.queued++;
    else {
      if (view.state === 'opted-out') d.optedOut++;
      else d.notSent++;
      if (d.problems.length < 100) d.problems.push({ customerId: s.customerId, state: view.state, why: view.words });
    }
  }
  return d;
}
