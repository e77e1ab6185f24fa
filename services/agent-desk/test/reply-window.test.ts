// The desk's WhatsApp reply-window note, run as the page runs it (the script in a context of its own).
import { readFileSync } from 'node:fs';
import { createContext, runInContext } from 'node:vm';
import { describe, expect, it } from 'vitest';

type Item = { kind: 'in' | 'out' | 'event'; channel: string; at: number };
const page: Record<string, unknown> = { fmtTime: (ms: number) => new Date(ms).toISOString() };
page.window = page;
createContext(page);
runInContext(readFileSync(new URL('../public/reply-window.js', import.meta.url), 'utf8'), page);
const note = page.whatsappWindowNote as (channel: string, items: Item[], now: number) => string;

const HOUR = 3600_000;
const now = Date.parse('2026-12-02T12:00:00Z');

describe("the desk's WhatsApp reply window", () => {
  it('says until when a free reply can go, from the customer’s last WhatsApp message', () => {
    const items: Item[] = [
      { kind: 'in', channel: 'whatsapp', at: now - 30 * HOUR },
      { kind: 'in', channel: 'whatsapp', at: now - 2 * HOUR },
      { kind: 'out', channel: 'whatsapp', at: now - HOUR },
    ];
    expect(note('whatsapp', items, now)).toBe(
      "WhatsApp: you can reply freely until 2026-12-03T10:00:00.000Z (24 hours after the customer's last message). After that only the approved template can be sent.",
    );
  });

  it('says when it closed and what a reply does now', () => {
    const text = note('whatsapp', [{ kind: 'in', channel: 'whatsapp', at: now - 25 * HOUR }], now);
    expect(text).toContain('closed at 2026-12-02T11:00:00.000Z');
    expect(text).toContain('sends only the approved template');
  });

  it('does not count the agent’s own messages, and says nothing on other channels', () => {
    expect(note('whatsapp', [{ kind: 'out', channel: 'whatsapp', at: now }], now)).toContain('has not written on WhatsApp');
    expect(note('sms', [{ kind: 'in', channel: 'sms', at: now }], now)).toBe('');
  });
});
