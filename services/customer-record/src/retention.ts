// How long each kind of customer data is kept, and what a sweep at a given moment deletes (pure).
// Message texts go first (the entry stays as a record that a message came), then conversations with
// their entries, and audit entries on their own clock. Each sweep turn has a slot id: the instance
// that inserts the slot's document runs it, the others skip it (store/retention.ts).

export interface RetentionWindows {
  messageTextDays: number;
  conversationDays: number;
  auditDays: number;
}

export interface RetentionCutoffs {
  /** History entries that occurred before this lose text, subject and attachments; index texts of conversations last active before it go. */
  textsBefore: Date;
  /** Conversations last active before this go, with their history entries and index rows. */
  conversationsBefore: Date;
  /** Audit entries (and sweep records) written before this go. */
  auditBefore: Date;
}

const DAY_MS = 86_400_000;

export function retentionCutoffs(now: Date, windows: RetentionWindows): RetentionCutoffs {
  const before = (days: number) => new Date(now.getTime() - days * DAY_MS);
  return {
    textsBefore: before(windows.messageTextDays),
    // A conversation is never kept for less time than its texts.
    conversationsBefore: before(Math.max(windows.conversationDays, windows.messageTextDays)),
    auditBefore: before(windows.auditDays),
  };
}

/** The turn `now` falls in: one sweep per interval across every instance. */
export function sweepSlot(now: Date, intervalMs: number): string {
  return `retention:${Math.floor(now.getTime() / intervalMs)}`;
}
