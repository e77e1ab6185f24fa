import { describe, expect, it } from 'vitest';
import { SignInLimitError, SignInThrottle } from './sign-in-throttle';

const limits = { perIdAndAddress: 3, perAddress: 10, perIdTotal: 6, windowMs: 60_000 };

/** n wrong passwords for an id from an address; how many were let through to the password check. */
function guess(t: SignInThrottle, id: string, address: string, n: number, now: number): number {
  let checked = 0;
  for (let i = 0; i < n; i++) if (t.attempt(id, address, now).allowed) checked++;
  return checked;
}

describe('sign-in throttle', () => {
  it("throttles the attacker's guesses at one person from one address, and lets the person in from elsewhere", () => {
    const t = new SignInThrottle(limits);
    expect(guess(t, 'ana', '203.0.113.9', 50, 0)).toBe(3);
    expect(t.attempt('ana', '203.0.113.9', 1000)).toMatchObject({ allowed: false, limit: 'id-and-address', retryAfterMs: 59_000 });
    // Ana, at her desk, is not locked out by the stranger.
    expect(t.attempt('ana', '10.0.0.7', 1000)).toEqual({ allowed: true });
    t.succeeded('ana', '10.0.0.7');
    // The window ends: the attacker may try again, a few times only.
    expect(guess(t, 'ana', '203.0.113.9', 50, 60_000)).toBe(3);
  });

  it('limits failures from one address whatever the id', () => {
    const t = new SignInThrottle(limits);
    let checked = 0;
    for (let i = 0; i < 20; i++) checked += guess(t, `id-${i}`, '198.51.100.1', 2, 0);
    expect(checked).toBe(10);
    expect(t.attempt('someone', '198.51.100.1', 0)).toMatchObject({ allowed: false, limit: 'address' });
    expect(t.attempt('someone', '198.51.100.2', 0).allowed).toBe(true);
  });

  it('against guesses from many addresses, lets through only addresses that have not failed for the id', () => {
    const t = new SignInThrottle(limits);
    for (let a = 0; a < 3; a++) guess(t, 'ana', `192.0.2.${a}`, 2, 0); // 6 failures in all
    expect(t.attempt('ana', '192.0.2.0', 0)).toMatchObject({ allowed: false, limit: 'id' });
    // A fresh address gets one try: the rightful person with the right password gets in...
    expect(t.attempt('ana', '10.0.0.7', 0).allowed).toBe(true);
    t.succeeded('ana', '10.0.0.7');
    expect(t.attempt('ana', '10.0.0.7', 0).allowed).toBe(true);
    // ...while a guesser's fresh address is refused after its first wrong try.
    expect(t.attempt('ana', '192.0.2.77', 0).allowed).toBe(true);
    expect(t.attempt('ana', '192.0.2.77', 0)).toMatchObject({ allowed: false, limit: 'id' });
    // Other people are not affected.
    expect(t.attempt('bo', '192.0.2.0', 0).allowed).toBe(true);
  });

  it('counts parallel attempts before their passwords are checked, and takes back the right ones', () => {
    const t = new SignInThrottle(limits);
    const started = Array.from({ length: 5 }, () => t.attempt('ana', '10.0.0.7', 0).allowed);
    expect(started).toEqual([true, true, true, false, false]);
    t.succeeded('ana', '10.0.0.7');
    expect(guess(t, 'ana', '10.0.0.7', 5, 0)).toBe(3);
  });

  it('forgets the oldest keys rather than grow without bound', () => {
    const t = new SignInThrottle({ ...limits, perIdAndAddress: 1, perAddress: 1_000_000, maxKeys: 100 });
    guess(t, 'id-0', '10.0.0.1', 1, 0);
    expect(t.attempt('id-0', '10.0.0.1', 0).allowed).toBe(false);
    for (let i = 1; i < 1000; i++) guess(t, `id-${i}`, '10.0.0.1', 1, 0);
    expect(t.attempt('id-0', '10.0.0.1', 0).allowed).toBe(true);
    expect(t.attempt('id-999', '10.0.0.1', 0).allowed).toBe(false);
  });

  it('refuses limits that are not whole numbers above 0', () => {
    expect(() => new SignInThrottle({ ...limits, perIdTotal: 0 })).toThrow(SignInLimitError);
    expect(() => new SignInThrottle({ ...limits, windowMs: 1.5 })).toThrow(/windowMs/);
  });
});
