import { describe, expect, it } from 'vitest';
import { HSTS_HEADER_VALUE, transportSecurity } from './transport-security';

describe('transport security from the public URL', () => {
  it('turns Secure cookies and HSTS on for an https public URL', () => {
    expect(transportSecurity('https://desk.example.com')).toEqual({ secureCookies: true, hsts: HSTS_HEADER_VALUE });
  });

  it('leaves both off over plain http or without a public URL', () => {
    expect(transportSecurity('http://127.0.0.1:8080')).toEqual({ secureCookies: false });
    expect(transportSecurity(undefined)).toEqual({ secureCookies: false });
  });

  it('lets an operator turn either off, or on, explicitly', () => {
    expect(transportSecurity('https://desk.example.com', { secureCookies: false, hsts: false })).toEqual({ secureCookies: false });
    expect(transportSecurity('http://desk.internal', { secureCookies: true })).toEqual({ secureCookies: true });
  });
});
