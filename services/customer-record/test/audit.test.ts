// The audit log without a store: entries gathered into one write, and no read released before
// its entry is stored, or refused when it cannot be.
import type { Collection } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { createLogger } from '#libs/observability';
import { AuditLog, AuditUnavailableError } from '../src/audit';
import type { AuditDoc } from '../src/store';

const entry = (actorId: string) => ({ actorId, actorRole: 'agent', action: 'GetCustomer', customerId: 'cu-1', conversationId: 'c-1' });

function fakeCollection(insert: (docs: AuditDoc[]) => Promise<unknown>) {
  const calls: AuditDoc[][] = [];
  const collection = { insertMany: (docs: AuditDoc[]) => (calls.push(docs), insert(docs)) } as unknown as Collection<AuditDoc>;
  return { collection, calls };
}

describe('audit log', () => {
  it('writes entries recorded together in one insert, and releases each only once it is stored', async () => {
    let store!: () => void;
    const { collection, calls } = fakeCollection(() => new Promise<void>((r) => (store = r)));
    const log = new AuditLog(collection, createLogger('audit-test', 'silent'), { flushAfterMs: 5 });
    const settled: string[] = [];
    const reads = ['ana', 'bo', 'cy'].map((a) => log.record(entry(a)).then(() => settled.push(a)));
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.map((d) => d.actorId)).toEqual(['ana', 'bo', 'cy']);
    expect(settled).toEqual([]);
    store();
    await Promise.all(reads);
    expect(settled.sort()).toEqual(['ana', 'bo', 'cy']);
  });

  it('refuses every read of a batch whose write fails or hangs, and treats entries already stored as written', async () => {
    const failing = new AuditLog(fakeCollection(() => Promise.reject(new Error('connection reset'))).collection, createLogger('audit-test', 'silent'));
    await expect(Promise.all([failing.record(entry('ana')), failing.record(entry('bo'))])).rejects.toBeInstanceOf(AuditUnavailableError);
    const hanging = new AuditLog(fakeCollection(() => new Promise(() => {})).collection, createLogger('audit-test', 'silent'), { writeTimeoutMs: 50 });
    await expect(hanging.record(entry('ana'))).rejects.toThrow(/audit log cannot be written/);
    const duplicate = Object.assign(new Error('E11000 duplicate key'), { writeErrors: [{ code: 11000 }] });
    const stored = new AuditLog(fakeCollection(() => Promise.reject(duplicate)).collection, createLogger('audit-test', 'silent'));
    await expect(stored.record(entry('ana'))).resolves.toBeUndefined();
  });
});
