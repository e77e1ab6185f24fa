import { describe, expect, it } from 'vitest';
import { exportPieces } from '../src/export-document';

async function* each<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function text(document: Record<string, unknown>): Promise<string> {
  let out = '';
  for await (const piece of exportPieces(document)) out += piece;
  return out;
}

describe('the export document written part by part', () => {
  const history = [
    { _id: 'contact:1', text: 'Hello,\nmy order "42"', occurredAt: new Date(Date.UTC(2026, 11, 6)), attachments: [] },
    { _id: 'contact:2', text: 'ü ✓', nested: { a: [1, { b: null }] }, missing: undefined },
  ];
  const whole = {
    format: 'contactcenter.customer-export.v1',
    exportedAt: new Date(0),
    reason: 'DPR-1',
    customer: { _id: 'c1', identities: [] },
    history,
    audit: [],
  };

  it('makes the text JSON.stringify makes of the whole document', async () => {
    const written = await text({ ...whole, history: each(history), audit: each([]) });
    expect(written).toBe(JSON.stringify(whole, null, 2));
    expect(JSON.parse(written).history[0].text).toBe('Hello,\nmy order "42"');
  });

  it('leaves out fields without a value, and writes an empty document', async () => {
    expect(await text({ a: undefined, b: each([1]) })).toBe(JSON.stringify({ b: [1] }, null, 2));
    expect(await text({})).toBe('{}');
  });
});
