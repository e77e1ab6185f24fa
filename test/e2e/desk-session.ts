// A person signed in to the desk over HTTP, as the page is: the session cookie, the CSRF token,
// and the desk's own Origin on every request.
import { expect } from 'vitest';

export const DESK_PASSWORD = 'correct horse battery staple';

export interface DeskSession {
  base: string;
  cookie: string;
  csrf: string;
}

export async function deskSignIn(base: string, id: string, password = DESK_PASSWORD): Promise<DeskSession> {
  const res = await fetch(`${base}/api/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify({ id, password }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { csrf: string };
  return { base, cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: body.csrf };
}

/** A JSON request of the page (GET without a body, POST with one). */
export async function deskCall(session: DeskSession, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  return deskSend(session, path, body === undefined ? undefined : { type: 'application/json', bytes: Buffer.from(JSON.stringify(body)) });
}

/** A request whose body is sent as it is, with its type and any extra headers. */
export async function deskSend(
  session: DeskSession,
  path: string,
  body?: { type: string; bytes: Buffer; headers?: Record<string, string> },
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${session.base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { origin: session.base, cookie: session.cookie, 'x-csrf-token': session.csrf, 'content-type': body?.type ?? 'application/json', ...body?.headers },
    body: body?.bytes,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
