import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { BadRequestError, BodyTooLargeError, ForbiddenError, HttpError, NotSignedInError, TooManyRequestsError } from './errors';
import { readSignInForm } from './sign-in';
import { signInConfig, signInSettings } from './sign-in-config';

describe('the sign-in form', () => {
  it('reads an id in lower case without spaces, and a password as given', () => {
    expect(readSignInForm({ id: '  Ana.Lopez ', password: ' pass word ' })).toEqual({ id: 'ana.lopez', password: ' pass word ' });
  });

  it('refuses with a 400 naming the field', () => {
    expect(() => readSignInForm({ password: 'x' })).toThrow(new BadRequestError('id is required'));
    expect(() => readSignInForm({ id: '   ', password: 'x' })).toThrow('id is required');
    expect(() => readSignInForm({ id: 'a'.repeat(65), password: 'x' })).toThrow('id is too long');
    expect(() => readSignInForm({ id: 'ana', password: 'x'.repeat(257) })).toThrow('password is too long');
    expect(() => readSignInForm({ id: 'ana', password: { $ne: null } })).toThrow('password is required');
    expect(() => readSignInForm(null)).toThrow(BadRequestError);
  });
});

describe('the sign-in settings', () => {
  const shape = signInConfig('OPS_CONSOLE', 'console');

  it('has one set of names under each application’s prefix, with the same defaults', () => {
    expect(Object.keys(shape).sort()).toEqual(
      [
        'HSTS',
        'SECURE_COOKIE',
        'SESSION_CHECK_MS',
        'SESSION_SECRET',
        'SESSION_TTL_MS',
        'SIGNIN_MAX_PER_ID',
        'SIGNIN_MAX_PER_ID_TOTAL',
        'SIGNIN_MAX_PER_IP',
        'SIGNIN_WINDOW_MS',
      ].map((n) => `OPS_CONSOLE_${n}`),
    );
    const settings = signInSettings('OPS_CONSOLE', loadConfig(shape, { OPS_CONSOLE_SESSION_SECRET: 's'.repeat(32) }));
    expect(settings).toEqual({
      sessionSecret: 's'.repeat(32),
      sessionTtlMs: 8 * 3600_000,
      sessionCheckMs: 2000,
      secureCookies: undefined,
      hsts: undefined,
      limits: { perIdAndAddress: 5, perAddress: 30, perIdTotal: 50, windowMs: 15 * 60_000 },
    });
  });

  it('reads each value under its own name', () => {
    const env = {
      AGENT_DESK_SESSION_SECRET: 'd'.repeat(32),
      AGENT_DESK_SESSION_TTL_MS: '1800000',
      AGENT_DESK_SIGNIN_MAX_PER_IP: '8',
      AGENT_DESK_SIGNIN_WINDOW_MS: '600000',
      AGENT_DESK_SECURE_COOKIE: 'false',
    };
    const settings = signInSettings('AGENT_DESK', loadConfig(signInConfig('AGENT_DESK', 'desk'), env));
    expect(settings).toMatchObject({ sessionTtlMs: 1_800_000, secureCookies: false, limits: { perAddress: 8, windowMs: 600_000 } });
  });

  it('says which variable is wrong', () => {
    expect(() => loadConfig(shape, {})).toThrow(/OPS_CONSOLE_SESSION_SECRET: is required/);
    expect(() => loadConfig(shape, { OPS_CONSOLE_SESSION_SECRET: 's'.repeat(32), OPS_CONSOLE_SIGNIN_WINDOW_MS: '0' })).toThrow(
      /OPS_CONSOLE_SIGNIN_WINDOW_MS: must be a whole number above 0/,
    );
  });
});

describe('HTTP errors', () => {
  it('carry their status, and Retry-After in whole seconds', () => {
    const errors: [HttpError, number][] = [
      [new BadRequestError('x'), 400],
      [new NotSignedInError(), 401],
      [new ForbiddenError('x'), 403],
      [new BodyTooLargeError(16 * 1024), 413],
      [new TooManyRequestsError('x', 1), 429],
    ];
    for (const [err, status] of errors) expect(err).toMatchObject({ status, name: err.constructor.name });
    expect(new TooManyRequestsError('x', 1).headers).toEqual({ 'retry-after': '1' });
    expect(new TooManyRequestsError('x', 90_500).headers).toEqual({ 'retry-after': '91' });
    expect(new BodyTooLargeError(16 * 1024).message).toBe('request body is larger than 16 KB');
  });
});
