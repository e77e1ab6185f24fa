import { describe, expect, it } from 'vitest';
import { onBehalfAddress } from '../src/on-behalf';

describe('whom a mail says it is written for', () => {
  it('takes the On-Behalf-Of header first, with or without a display name', () => {
    expect(onBehalfAddress('Kim Park <Kim@Example.com>', 'on behalf of lee@example.com', '')).toBe('kim@example.com');
    expect(onBehalfAddress('kim@example.com', '', '')).toBe('kim@example.com');
  });

  it('finds "on behalf of <address>" in the subject or the new text', () => {
    expect(onBehalfAddress('', 'Booking change on behalf of kim@example.com', '')).toBe('kim@example.com');
    expect(onBehalfAddress('', 'Booking change', 'Hello,\nI write on behalf of our client Kim Park <KIM@example.com>.\nThanks')).toBe('kim@example.com');
  });

  it('takes nothing from a mail that names no address, or a header that is not one', () => {
    expect(onBehalfAddress('', 'Booking change', 'I write on behalf of Kim Park')).toBeUndefined();
    expect(onBehalfAddress('not an address', 'Hello', 'nothing here')).toBeUndefined();
    // Deep in a long text (a quoted signature) it is not a request.
    expect(onBehalfAddress('', '', `${'x'.repeat(2500)} on behalf of kim@example.com`)).toBeUndefined();
  });
});
