// Answers and requests at the HTTP edge of the two browser-facing applications: strict security
// headers, bounded JSON bodies, the same-origin check that backs CSRF protection, and their
// static pages.
import { readdirSync, readFileSync } from 'node:fs';
import type http from 'node:http';
import { extname, join } from 'node:path';
import { BadRequestError, BodyTooLargeError, UnsupportedBodyError } from './errors';
import { safeFileName } from './files';

/** No inline script or style, no framing, nothing cached: pages show customer text. */
export const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
} as const;

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
}

/** The request's body as bytes; BodyTooLargeError (413) once it runs over `maxBytes`. */
async function readBody(req: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new BodyTooLargeError(maxBytes);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** An uploaded file's bytes: 413 before reading when the declared length is over `maxBytes`, 400 when empty. */
export async function readUpload(req: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) throw new BodyTooLargeError(maxBytes);
  const bytes = await readBody(req, maxBytes);
  if (!bytes.length) throw new BadRequestError('the file is empty');
  return bytes;
}

/** The file name an upload gives in X-File-Name (percent-encoded UTF-8), made safe to keep and show. */
export function uploadFileName(header: string | string[] | undefined, fallback = 'file'): string {
  const raw = typeof header === 'string' ? header : '';
  try {
    return safeFileName(decodeURIComponent(raw), fallback);
  } catch (err) {
    if (err instanceof URIError) throw new BadRequestError('X-File-Name must be percent-encoded UTF-8');
    throw err;
  }
}

/** The request's JSON body, refused with 415, 413 or 400 when it is not JSON, too big or malformed. */
export async function readJson(req: http.IncomingMessage, maxBytes: number): Promise<unknown> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) throw new UnsupportedBodyError('send JSON (content-type: application/json)');
  const body = await readBody(req, maxBytes);
  try {
    return JSON.parse(body.toString('utf8') || '{}');
  } catch {
    throw new BadRequestError('request body is not valid JSON');
  }
}

/**
 * A state-changing request must come from the application's own pages: browsers send Origin on
 * every POST, and it must be the configured public origin or, without one, this very host.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, configured?: string): boolean {
  if (!origin) return false;
  if (configured) return origin === configured;
  if (!host) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface StaticFile {
  type: string;
  body: Buffer;
}

/** The files of a `public/` folder, read once, by URL path; `/` is `index.html`. */
export function staticFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) files.set(`/${name}`, { type, body: readFileSync(join(dir, name)) });
  }
  const index = files.get('/index.html');
  if (index) files.set('/', index);
  return files;
}
