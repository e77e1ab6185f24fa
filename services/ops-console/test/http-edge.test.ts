import { describe, expect, it } from 'vitest';
import { NotSignedInError, TooManyRequestsError } from '#libs/web';
import { ReplayError } from '../src/dead-letters';
import { FilterError } from '../src/filter';
import { consoleFailure } from '../src/http';

describe('the console HTTP edge', () => {
  it('answers failures with a status and words, never internals', () => {
    expect(consoleFailure(new NotSignedInError())).toEqual({ status: 401, message: 'not signed in, or the session has expired', headers: {} });
    expect(consoleFailure(new TooManyRequestsError('busy', 5000))).toEqual({ status: 429, message: 'busy', headers: { 'retry-after': '5' } });
    expect(consoleFailure(new FilterError('unknown channel fax'))).toMatchObject({ status: 400, message: 'unknown channel fax' });
    expect(consoleFailure(new ReplayError('not a pipeline topic'))).toMatchObject({ status: 422 });
    expect(consoleFailure(new Error('secret detail'))).toEqual({ status: 500, message: 'internal error', headers: {} });
  });
});
