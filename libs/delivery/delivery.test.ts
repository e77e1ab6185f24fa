// The at-most-once delivery rules, against claims kept in memory (the Mongo adapter is tested
// through the channels' integration tests).
import { describe, expect, it } from 'vitest';
import {
  claimerOf,
  deliverOnce,
  DeliveryInterruptedError,
  settleExisting,
  type Claimer,
  type DeliveryClaims,
  type DeliveryRecord,
  type SendFailure,
} from './index';

class MemoryClaims implements DeliveryClaims {
  readonly records = new Map<string, DeliveryRecord>();
  constructor(readonly claimer: Claimer = claimerOf('email-1')) {}
  async claim(id: string, at: Date) {
    const existing = this.records.get(id);
    if (existing) return { ...existing };
    this.records.set(id, { _id: id, state: 'sending', claimedAt: at, claimedBy: this.claimer });
    return 'claimed' as const;
  }
  async find(id: string) {
    return this.records.get(id);
  }
  async markSent(id: string, providerId: string, at: Date) {
    this.records.set(id, { ...this.records.get(id)!, state: 'sent', providerId, finishedAt: at });
  }
  async markFailed(id: string, errorCode: string, detail: string, at: Date) {
    this.records.set(id, { ...this.records.get(id)!, state: 'failed', errorCode, detail, finishedAt: at });
  }
  async markUncertain(id: string, detail: string, at: Date) {
    this.records.set(id, { ...this.records.get(id)!, state: 'uncertain', detail, finishedAt: at });
  }
  async release(id: string) {
    this.records.delete(id);
  }
}

const failing = (failure: SendFailure) => Object.assign(new Error(failure.detail), { failure });
const classify = (err: unknown) => (err as { failure: SendFailure }).failure;

function run(claims: DeliveryClaims, send: () => Promise<string>, extra: Partial<Parameters<typeof deliverOnce>[0]> = {}) {
  return deliverOnce({ id: 'out-1', claims, send, classify, maxAttempts: 3, backoffMs: () => 1, sendWindowMs: 60_000, ...extra });
}

describe('deliverOnce', () => {
  it('sends once; a second delivery reports the first send without sending', async () => {
    const claims = new MemoryClaims();
    let sends = 0;
    const send = async () => `provider-${++sends}`;
    expect(await run(claims, send)).toEqual({ kind: 'sent', providerId: 'provider-1', repeated: false });
    expect(await run(claims, send)).toEqual({ kind: 'sent', providerId: 'provider-1', repeated: true });
    expect(sends).toBe(1);
  });

  it('releases the claim after a temporary refusal and sends on the next attempt', async () => {
    const claims = new MemoryClaims();
    let calls = 0;
    const retries: number[] = [];
    const send = async () => {
      if (++calls === 1) throw failing({ kind: 'refused-temporarily', code: '451', detail: 'try later' });
      return 'provider-2';
    };
    expect(await run(claims, send, { onRetry: (attempt) => retries.push(attempt) })).toMatchObject({ kind: 'sent', providerId: 'provider-2' });
    expect(retries).toEqual([1]);
  });

  it('gives up after the attempts with nothing sent and no claim left, so a later delivery may send', async () => {
    const claims = new MemoryClaims();
    const send = async (): Promise<string> => {
      throw failing({ kind: 'refused-temporarily', code: '421', detail: 'busy' });
    };
    expect(await run(claims, send)).toMatchObject({ kind: 'failed', permanent: false, code: '421', detail: 'gave up after 3 attempts: busy' });
    expect(claims.records.size).toBe(0);
  });

  it('records a permanent refusal, and a redelivery reports it without sending', async () => {
    const claims = new MemoryClaims();
    let sends = 0;
    const send = async (): Promise<string> => {
      sends++;
      throw failing({ kind: 'refused-permanently', code: '550', detail: 'no such user' });
    };
    expect(await run(claims, send)).toMatchObject({ kind: 'failed', permanent: true, code: '550', repeated: false });
    expect(await run(claims, send)).toMatchObject({ kind: 'failed', permanent: true, code: '550', repeated: true });
    expect(sends).toBe(1);
  });

  it('calls a send that timed out uncertain and never sends it again', async () => {
    const claims = new MemoryClaims();
    let sends = 0;
    const send = async (): Promise<string> => {
      sends++;
      throw failing({ kind: 'uncertain', code: 'ETIMEDOUT', detail: 'no answer' });
    };
    expect(await run(claims, send)).toMatchObject({ kind: 'uncertain', code: 'DELIVERY_UNCERTAIN', repeated: false });
    expect(await run(claims, send)).toMatchObject({ kind: 'uncertain', repeated: true });
    expect(sends).toBe(1);
  });

  it('does not send a claim left "sending" by a crash; once past the send window it is uncertain', async () => {
    const claims = new MemoryClaims();
    claims.records.set('out-1', { _id: 'out-1', state: 'sending', claimedAt: new Date(Date.now() - 120_000) });
    let sends = 0;
    const outcome = await run(claims, async () => `p-${++sends}`);
    expect(outcome).toMatchObject({ kind: 'uncertain', code: 'DELIVERY_UNCERTAIN', repeated: false });
    expect(sends).toBe(0);
    expect(claims.records.get('out-1')?.state).toBe('uncertain');
  });

  it('waits on a fresh claim of another sender and reports what it became', async () => {
    const claims = new MemoryClaims();
    claims.records.set('out-1', { _id: 'out-1', state: 'sending', claimedAt: new Date() });
    setTimeout(() => void claims.markSent('out-1', 'theirs', new Date()), 100);
    let sends = 0;
    expect(await run(claims, async () => `p-${++sends}`)).toEqual({ kind: 'sent', providerId: 'theirs', repeated: true });
    expect(sends).toBe(0);
  });

  it("calls a fresh claim of this instance's earlier run uncertain at once, without sending: that run is gone", async () => {
    const claims = new MemoryClaims({ instance: 'email-1', run: 'after-the-restart' });
    claims.records.set('out-1', { _id: 'out-1', state: 'sending', claimedAt: new Date(), claimedBy: { instance: 'email-1', run: 'before-the-crash' } });
    let sends = 0;
    const started = Date.now();
    expect(await run(claims, async () => `p-${++sends}`)).toMatchObject({ kind: 'uncertain', code: 'DELIVERY_UNCERTAIN', repeated: false });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(sends).toBe(0);
    expect(claims.records.get('out-1')?.state).toBe('uncertain');
  });

  it('stops between attempts when the service stops', async () => {
    const claims = new MemoryClaims();
    const stopping = new AbortController();
    const send = async (): Promise<string> => {
      stopping.abort();
      throw failing({ kind: 'refused-temporarily', code: '451', detail: 'try later' });
    };
    await expect(run(claims, send, { signal: stopping.signal, backoffMs: () => 10_000 })).rejects.toBeInstanceOf(DeliveryInterruptedError);
    expect(claims.records.size).toBe(0);
  });
});

describe('settleExisting', () => {
  const at = new Date('2026-01-01T10:00:00Z');
  const self: Claimer = { instance: 'sms-voice-1', run: 'now' };
  const sending = (claimedBy?: Claimer): DeliveryRecord => ({ _id: 'x', state: 'sending', claimedAt: at, claimedBy });
  const soon = new Date(at.getTime() + 1000);

  it('waits inside the send window and calls the claim uncertain after it', () => {
    expect(settleExisting(sending(), soon, 5000, self)).toEqual({ kind: 'wait', untilMs: at.getTime() + 5000 });
    expect(settleExisting(sending(), new Date(at.getTime() + 5000), 5000, self)).toMatchObject({ kind: 'uncertain', code: 'DELIVERY_UNCERTAIN' });
  });

  it('waits on a claim of another instance, or of this run (a send of its own still in flight)', () => {
    expect(settleExisting(sending({ instance: 'sms-voice-2', run: 'other' }), soon, 5000, self)).toMatchObject({ kind: 'wait' });
    expect(settleExisting(sending(self), soon, 5000, self)).toMatchObject({ kind: 'wait' });
  });

  it("does not wait on a claim of this instance's earlier run", () => {
    expect(settleExisting(sending({ instance: 'sms-voice-1', run: 'before' }), soon, 5000, self)).toMatchObject({ kind: 'uncertain', repeated: false });
  });
});
