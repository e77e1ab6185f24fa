// The console's calls to its own API, shared by its pages (the console and the privacy page):
// JSON in and out, the session's CSRF token on every change, a failure as an Error with the
// server's message and the HTTP status.
'use strict';
(function () {
  let csrfToken = '';

  async function api(path, options) {
    const opts = options || {};
    const headers = { accept: 'application/json' };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.method && opts.method !== 'GET') headers['x-csrf-token'] = csrfToken;
    const res = await fetch(path, {
      method: opts.method || 'GET',
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: 'same-origin',
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = new Error(data.error || `HTTP ${res.status}`);
      err.status = res.status;
      throw err;
    }
    return data;
  }

  window.OpsApi = {
    api,
    /** The token of the session signed in, sent with every call that changes something. */
    setCsrfToken(token) {
      csrfToken = token || '';
    },
  };
})();
