// Delivery reports: what deliverOnce's outcomes become on the wire.
import { describe, expect, it } from 'vitest';
import { Channel } from '../proto';
import { deliveryReportedEvent, reportOf, unsentOutcome, type DeliveryReport } from './index';

const message = { messageId: 'out-1', conversationId: 'conv-1' };
const event = {
  eventId: 'e-1',
  channel: Channel.CHANNEL_SMS,
  occurredAt: new Date('2026-01-01T10:00:00Z'),
  accepted: { code: 'delivery.queued', text: 'accepted as SM1' },
};

describe('delivery reports', () => {
  it('reports an uncertain send as permanent, a given-up one as not', () => {
    expect(reportOf({ kind: 'sent', providerId: 'p', repeated: true })).toEqual({ delivered: true });
    expect(reportOf({ kind: 'uncertain', code: 'DELIVERY_UNCERTAIN', detail: 'maybe', repeated: false }, ' (part 2)')).toEqual({
      delivered: false,
      code: 'DELIVERY_UNCERTAIN',
      detail: 'maybe (part 2)',
      permanent: true,
      uncertain: true,
    });
    const gaveUp = { kind: 'failed', permanent: false, code: '421', detail: 'busy', repeated: false } as const;
    expect(reportOf(gaveUp)).toEqual({ delivered: false, code: '421', detail: 'busy', permanent: false });
    expect([
      unsentOutcome(gaveUp),
      unsentOutcome({ ...gaveUp, permanent: true }),
      unsentOutcome({ kind: 'uncertain', code: 'DELIVERY_UNCERTAIN', detail: '', repeated: true }),
    ]).toEqual(['gave_up', 'failed_permanently', 'uncertain']);
  });

  it('gives a delivered report the reason it was accepted, a failure its kind and detail', () => {
    const delivered = deliveryReportedEvent(message, { delivered: true }, event);
    expect(delivered).toMatchObject({ eventId: 'e-1', conversationId: 'conv-1', channel: Channel.CHANNEL_SMS, reason: event.accepted });
    expect(delivered.step).toEqual({
      $case: 'deliveryReported',
      deliveryReported: { outboundMessageId: 'out-1', delivered: true, errorCode: '', detail: '', permanent: false },
    });
    const reports: DeliveryReport[] = [
      { delivered: false, code: '550', detail: 'no such user', permanent: true },
      { delivered: false, code: '421', detail: 'busy', permanent: false },
      { delivered: false, code: 'DELIVERY_UNCERTAIN', detail: 'maybe', permanent: true, uncertain: true },
    ];
    const reasons = reports.map((report) => deliveryReportedEvent(message, report, event).reason?.code);
    expect(reasons).toEqual(['delivery.failed_permanently', 'delivery.gave_up', 'delivery.uncertain']);
    const failed = deliveryReportedEvent(message, { delivered: false, code: '550', detail: 'no such user', permanent: true }, event);
    expect(failed.reason?.text).toBe('no such user');
    expect(failed.step).toMatchObject({ deliveryReported: { delivered: false, errorCode: '550', detail: 'no such user', permanent: true } });
  });
});
