// The console's HTTP edge: health and metrics, the static page, the API routes by method and
// path, and the one place where a failure becomes a status and a sentence.
import http from 'node:http';
import { errorDetails, type Logger } from '#libs/observability';
import { applyTransportSecurity, HttpError, NotFoundError, SECURITY_HEADERS, sendJson, type StaticFile, type TransportSecurity } from '#libs/web';
import { ReplayError } from './dead-letters';
import { FilterError } from './filter';

export interface ApiRoute {
  method: 'GET' | 'POST';
  /** An exact path, or a pattern whose groups the route reads. */
  path: string | RegExp;
  /** The route as "METHOD name" in the access matrix. */
  name: string;
  run(req: http.IncomingMessage, res: http.ServerResponse, match: string[], url: URL): Promise<void>;
}

interface ConsoleHttpDeps {
  routes: ApiRoute[];
  files: Map<string, StaticFile>;
  security: TransportSecurity;
  /** Health, readiness and metrics; true when it answered. */
  ops(req: http.IncomingMessage, res: http.ServerResponse): boolean;
  logger: Logger;
}

/** What an error becomes for the browser: a status, a sentence, and headers such as Retry-After. */
export function consoleFailure(err: unknown): { status: number; message: string; headers: Record<string, string> } {
  if (err instanceof HttpError) return { status: err.status, message: err.message, headers: err.headers };
  if (err instanceof FilterError) return { status: 400, message: err.message, headers: {} };
  if (err instanceof ReplayError) return { status: 422, message: err.message, headers: {} };
  return { status: 500, message: 'internal error', headers: {} };
}

export function createConsoleServer(deps: ConsoleHttpDeps): http.Server {
  return http.createServer((req, res) => {
    applyTransportSecurity(res, deps.security);
    if (deps.ops(req, res)) return;
    route(deps, req, res).catch((err: unknown) => {
      const failure = consoleFailure(err);
      if (failure.status >= 500) deps.logger.error({ path: (req.url ?? '').split('?')[0], ...errorDetails(err) }, 'ops console request failed');
      if (!res.headersSent) sendJson(res, failure.status, { error: failure.message }, failure.headers);
      // Cut off, not ended: an answer that failed half-way (a download) must not look whole.
      else res.destroy();
    });
  });
}

async function route(deps: ConsoleHttpDeps, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://console.invalid');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  const file = deps.files.get(path);
  if (file && (method === 'GET' || method === 'HEAD')) {
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.type, 'cache-control': 'no-cache' }).end(method === 'HEAD' ? undefined : file.body);
    return;
  }
  for (const r of deps.routes) {
    const match = r.method === method && (typeof r.path === 'string' ? (r.path === path ? [path] : null) : r.path.exec(path));
    if (match) return r.run(req, res, match, url);
  }
  throw new NotFoundError('not found');
}
