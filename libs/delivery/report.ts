// What a channel says became of an outbound message: one report, published as the
// DeliveryReported step of a conversation event. No I/O.
import { ConversationEvent, type Channel, type OutboundMessage } from '../proto';
import type { DeliveryOutcome } from './index';

/**
 * delivered: the provider took it. Otherwise `permanent` false means a later delivery may still
 * succeed; `uncertain` means the send window closed without an answer, so it may or may not
 * have gone, and it is not sent again (reported as permanent).
 */
export type DeliveryReport = { delivered: true } | { delivered: false; code: string; detail: string; permanent: boolean; uncertain?: boolean };

/** The report of what deliverOnce did; `detailSuffix` adds what the channel knows besides (parts already sent). */
export function reportOf(outcome: DeliveryOutcome, detailSuffix = ''): DeliveryReport {
  if (outcome.kind === 'sent') return { delivered: true };
  const detail = outcome.detail + detailSuffix;
  if (outcome.kind === 'uncertain') return { delivered: false, code: outcome.code, detail, permanent: true, uncertain: true };
  return { delivered: false, code: outcome.code, detail, permanent: outcome.permanent };
}

/** How a message that was not sent is counted: uncertain, refused for good, or given up after the attempts. */
export function unsentOutcome(outcome: Exclude<DeliveryOutcome, { kind: 'sent' }>): 'uncertain' | 'failed_permanently' | 'gave_up' {
  if (outcome.kind === 'uncertain') return 'uncertain';
  return outcome.permanent ? 'failed_permanently' : 'gave_up';
}

export interface DeliveryReportEvent {
  /** Stable per message and outcome, so the same report published again is one event downstream. */
  eventId: string;
  channel: Channel;
  occurredAt: Date;
  /** The reason a delivered report gives: how the provider took the message. */
  accepted: { code: string; text: string };
}

/** The conversation event that reports `report` for `message`. */
export function deliveryReportedEvent(
  message: Pick<OutboundMessage, 'messageId' | 'conversationId'>,
  report: DeliveryReport,
  event: DeliveryReportEvent,
): ConversationEvent {
  return ConversationEvent.fromPartial({
    eventId: event.eventId,
    conversationId: message.conversationId,
    occurredAt: event.occurredAt,
    channel: event.channel,
    reason: report.delivered ? event.accepted : { code: failureReasonCode(report), text: report.detail },
    step: {
      $case: 'deliveryReported',
      deliveryReported: report.delivered
        ? { outboundMessageId: message.messageId, delivered: true, errorCode: '', detail: '', permanent: false }
        : { outboundMessageId: message.messageId, delivered: false, errorCode: report.code, detail: report.detail, permanent: report.permanent },
    },
  });
}

function failureReasonCode(report: { permanent: boolean; uncertain?: boolean }): string {
  if (report.uncertain) return 'delivery.uncertain';
  return report.permanent ? 'delivery.failed_permanently' : 'delivery.gave_up';
}
