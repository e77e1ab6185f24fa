// Hostile frames over a real WebSocket: each gets a typed, specific error frame (or its normal
// answer), the service keeps running, and another visitor's conversation never notices.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueId } from '#libs/testing';
import type { ErrorCode } from '../src/protocol';
import { dropChatCollections, startInstance, Visitor, type Instance } from './helpers';

const ERROR_CODES: ErrorCode[] = ['not-accepted', 'invalid-frame', 'internal', 'verification-limit', 'no-code', 'code-expired', 'code-wrong', 'too-many-tries'];
const SERVER_TYPES = ['welcome', 'ack', 'error', 'entry', 'typing', 'wait', 'survey-ack', 'pong', 'verification-sent', 'verified'];

const junk = fc.oneof(fc.jsonValue(), fc.string({ maxLength: 300 }), fc.constantFrom('\u0000', '<img src=x onerror=alert(1)>', '__proto__', -1, Infinity));
const hostile = fc.oneof(
  fc.string({ maxLength: 500 }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        type: fc.constantFrom('message', 'profile', 'typing', 'survey-answer', 'verify-email', 'verify-code', 'hello', 'welcome', '__proto__'),
        clientMessageId: junk,
        text: junk,
        email: junk,
        code: fc.oneof(junk, fc.stringMatching(/^\d{6}$/)),
        score: junk,
        name: junk,
      },
      { requiredKeys: ['type'] },
    )
    .map((f) => JSON.stringify(f)),
);

describe('hostile widget frames', () => {
  const prefix = uniqueId('chathostile').replace(/-/g, '_');
  let chat: Instance;
  const open: Visitor[] = [];

  beforeAll(async () => {
    chat = await startInstance(prefix, { CHAT_RATE_BURST: '100000', CHAT_RATE_PER_SECOND: '100000' });
  });
  afterAll(async () => {
    for (const v of open) v.close();
    await chat?.ctx.stop();
    await dropChatCollections(prefix);
  });

  it('answers every frame with a known frame, errors with a typed code and a message, and leaves other conversations alone', { timeout: 120_000 }, async () => {
    const attacker = await Visitor.start(chat.url);
    const bystander = await Visitor.start(chat.url);
    open.push(attacker, bystander);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(hostile, async (raw) => {
        const from = attacker.frames.length;
        attacker.send(raw);
        // A ping after it: once its pong is back, every answer to the hostile frame is in.
        const marker = `m${n++}`;
        attacker.send({ type: 'message', clientMessageId: marker, text: 'still here' });
        await attacker.next((f) => f.type === 'ack' && f.clientMessageId === marker);
        expect(attacker.closed).toBeUndefined();
        for (const f of attacker.frames.slice(from)) {
          expect(SERVER_TYPES).toContain(f.type);
          if (f.type === 'error') {
            expect(ERROR_CODES).toContain(f.code);
            expect(f.code).not.toBe('internal');
            expect(typeof f.message).toBe('string');
            expect(f.message.length).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 60 },
    );
    // The bystander's conversation goes on, and nothing of the attacker's reached it.
    bystander.send({ type: 'message', clientMessageId: 'b1', text: 'hello' });
    const ack = await bystander.next((f) => f.type === 'ack' && f.clientMessageId === 'b1');
    expect(ack.seq).toBe(1);
    expect(bystander.frames.filter((f) => f.type === 'entry' || f.type === 'error' || f.type === 'verification-sent' || f.type === 'verified')).toEqual([]);
  });
});
