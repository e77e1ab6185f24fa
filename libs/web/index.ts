// What the two browser-facing applications (agent-desk, ops-console) share at their HTTP edge:
// the conversation search's request and rows, typed HTTP errors, strict security headers, bounded JSON bodies, the same-origin check that
// backs CSRF protection, their static pages, and one way of signing staff in and out.
export * from './client-address';
export * from './conversation-search';
export * from './errors';
export * from './files';
export * from './content-edge';
export * from './http';
export * from './sign-in';
export * from './sign-in-config';
export * from './transport-security';
