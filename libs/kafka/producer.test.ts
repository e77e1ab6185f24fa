import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkaUnavailableError, needsNewProducerId } from './producer';

const protocolError = (type: string, code: number) => new KafkaJSProtocolError({ type, code, retriable: false, message: type } as never);

describe('needsNewProducerId', () => {
  it('knows the broker answers after which only a new producer id writes again, however wrapped', () => {
    expect(needsNewProducerId(protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER', 45))).toBe(true);
    expect(needsNewProducerId(protocolError('UNKNOWN_PRODUCER_ID', 59))).toBe(true);
    expect(
      needsNewProducerId(new KafkaJSNumberOfRetriesExceeded(protocolError('INVALID_PRODUCER_EPOCH', 47), { retryCount: 5, retryTime: 2000 } as never)),
    ).toBe(true);
    expect(needsNewProducerId(new KafkaUnavailableError('refused', { cause: protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER', 45) }))).toBe(true);
  });

  it("leaves every other failure to the producer's own retries", () => {
    expect(needsNewProducerId(protocolError('NOT_LEADER_FOR_PARTITION', 6))).toBe(false);
    expect(needsNewProducerId(new Error('connect ECONNREFUSED'))).toBe(false);
    expect(needsNewProducerId(undefined)).toBe(false);
  });
});
