// Arbitrary and hostile widget frames against the protocol's parsers: a typed frame or a
// FrameError with a specific message, never anything else. No servers.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameError, parseClientFrame, parseHello } from '../src/protocol';

const TYPES = ['hello', 'message', 'profile', 'typing', 'survey-answer', 'ping', 'verify-email', 'verify-code', 'welcome', '__proto__', 'constructor', ''];
const hostileValue = fc.oneof(
  fc.jsonValue(),
  fc.string({ maxLength: 5000 }),
  fc.constantFrom('\u0000', '<script>alert(1)</script>', '{"$where":"1"}', '../../etc/passwd', '1e309', 'NaN', '\ud800'),
  fc.double(),
  fc.integer(),
);
/** Frames shaped like the real ones, with every field possibly wrong, plus anything at all. */
const frameLike = fc.record(
  {
    type: fc.constantFrom(...TYPES),
    clientMessageId: hostileValue,
    text: hostileValue,
    token: hostileValue,
    lastSeq: hostileValue,
    email: fc.oneof(hostileValue, fc.emailAddress()),
    code: fc.oneof(hostileValue, fc.stringMatching(/^[0-9 -]{0,12}$/)),
    name: hostileValue,
    phone: hostileValue,
    score: hostileValue,
    comment: hostileValue,
  },
  { requiredKeys: ['type'] },
);
const raw = fc.oneof(
  frameLike.map((f) => JSON.stringify(f)),
  fc.string({ maxLength: 2000 }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
);

function outcome(parse: (s: string) => unknown, input: string): 'ok' | 'refused' {
  try {
    parse(input);
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(FrameError);
    expect((err as FrameError).message.length).toBeGreaterThan(0);
    return 'refused';
  }
}

describe('widget frames', () => {
  it('parse to a frame of a known type or fail with a FrameError, whatever arrives', () => {
    fc.assert(
      fc.property(raw, (input) => {
        if (outcome(parseClientFrame, input) === 'ok') {
          const frame = parseClientFrame(input);
          expect(['message', 'profile', 'typing', 'survey-answer', 'ping', 'verify-email', 'verify-code']).toContain(frame.type);
          if (frame.type === 'verify-code') expect(frame.code).toMatch(/^\d{6}$/);
          if (frame.type === 'verify-email') expect(frame.email).toBe(frame.email.trim().toLowerCase());
          if (frame.type === 'message') expect(frame.text).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/);
        }
        if (outcome(parseHello, input) === 'ok') expect(parseHello(input).type).toBe('hello');
      }),
      { numRuns: 2000 },
    );
  });

  it('name the field that is wrong', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^[0-9 -]{0,12}$/)), (code) => {
        try {
          expect(parseClientFrame(JSON.stringify({ type: 'verify-code', code }))).toEqual({ type: 'verify-code', code: code.replace(/[\s-]/g, '') });
        } catch (err) {
          expect((err as FrameError).message).toMatch(/^code: code (must be the 6 digits from the mail|is longer than 32 characters)$/);
        }
      }),
    );
  });
});
