// The HTTP edge of the integration API: the operations paths and the OpenAPI document, then
// for every API route the key (401), its scope (403) and its rate (429), the route, the audit
// entry, and the answer; every failure becomes a problem (problems.ts) here and nowhere else.
import http from 'node:http';
import type { Logger } from '#libs/observability';
import { errorDetails } from '#libs/observability';
import { RateLimiter } from '#libs/rate-limit';
import { clientAddress, readJson } from '#libs/web';
import type { ApiAudit } from './audit';
import type { ApiKeyRecord, ApiKeyStore } from './key-store';
import { bearerKey, parseKey, secretMatches } from './keys';
import { ApiProblem, NotFoundProblem, problemOf, RateLimitedError, ScopeMissingError, UnauthorizedError, UnavailableProblem } from './problems';
import type { ApiAnswer, ApiRoute } from './route-types';

export interface ApiEdgeDeps {
  routes: ApiRoute[];
  keys: Pick<ApiKeyStore, 'get'>;
  audit: Pick<ApiAudit, 'record'>;
  /** The OpenAPI document, as served. */
  openapi: string;
  /** /healthz, /readyz, /metrics. */
  ops: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
  logger: Logger;
  maxBodyBytes: number;
  badKeysPerMinute: number;
  trustedProxies: Parameters<typeof clientAddress>[1];
  /** How long a key's record is reused before it is read again: the most a revocation takes to apply. */
  keyCacheMs?: number;
}

interface Matched {
  route: ApiRoute;
  params: Record<string, string>;
}

function compile(routes: ApiRoute[]) {
  const compiled = routes.map((route) => {
    const names: string[] = [];
    const pattern = new RegExp(`^${route.path.replace(/\{(\w+)\}/g, (_, name: string) => (names.push(name), '([^/]+)'))}$`);
    return { route, pattern, names };
  });
  /** The route, or the methods the path allows when it is known but not with this method. */
  return (method: string, path: string): Matched | { allowed: string[] } | undefined => {
    const allowed: string[] = [];
    for (const c of compiled) {
      const m = c.pattern.exec(path);
      if (!m) continue;
      allowed.push(c.route.method);
      if (c.route.method !== method) continue;
      const params = Object.fromEntries(c.names.map((n, i) => [n, safeDecode(m[i + 1]!)]));
      return { route: c.route, params };
    }
    return allowed.length ? { allowed } : undefined;
  };
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function createApiServer(deps: ApiEdgeDeps): http.Server {
  const match = compile(deps.routes);
  const perKey = new Map<number, RateLimiter>();
  const badKeys = new RateLimiter(deps.badKeysPerMinute, 60_000);
  const cached = new Map<string, { record: ApiKeyRecord | null; readAt: number }>();
  const keyCacheMs = deps.keyCacheMs ?? 1000;

  const keyRecord = async (id: string): Promise<ApiKeyRecord | null> => {
    const hit = cached.get(id);
    if (hit && Date.now() - hit.readAt < keyCacheMs) return hit.record;
    const record = await deps.keys.get(id);
    if (cached.size >= 10_000) cached.clear();
    cached.set(id, { record, readAt: Date.now() });
    return record;
  };

  /** The key the request presents, or UnauthorizedError; an address that keeps presenting bad keys is cut off. */
  const authenticate = async (req: http.IncomingMessage): Promise<ApiKeyRecord> => {
    const source = clientAddress(req, deps.trustedProxies);
    if (badKeys.isOver(source, Date.now()))
      throw new RateLimitedError('too many requests without a valid API key', badKeys.retryAfterMs(source, Date.now()) || 60_000);
    const presented = bearerKey(req.headers.authorization);
    const parsed = presented ? parseKey(presented) : undefined;
    const record = parsed ? await keyRecord(parsed.id) : null;
    if (!parsed || !record || !secretMatches(parsed.secret, record.secretHash)) {
      badKeys.take(source, Date.now());
      throw new UnauthorizedError(presented ? 'the API key is not valid' : 'send the API key as Authorization: Bearer <key>');
    }
    if (record.revokedAt) {
      badKeys.take(source, Date.now());
      throw new RevokedKeyError(record);
    }
    return record;
  };

  const limiterFor = (rate: number) => {
    let limiter = perKey.get(rate);
    if (!limiter) perKey.set(rate, (limiter = new RateLimiter(rate, 60_000)));
    return limiter;
  };

  const answer = async (req: http.IncomingMessage, matched: Matched, key: ApiKeyRecord): Promise<ApiAnswer> => {
    if (!key.scopes.includes(matched.route.scope)) throw new ScopeMissingError(matched.route.scope);
    const limiter = limiterFor(key.ratePerMinute);
    if (!limiter.take(key._id, Date.now()))
      throw new RateLimitedError(`over ${key.ratePerMinute} requests a minute for this key`, limiter.retryAfterMs(key._id, Date.now()));
    const url = new URL(req.url ?? '/', 'http://api');
    return matched.route.handle({ key, params: matched.params, query: url.searchParams, headers: req.headers, body: () => readJson(req, deps.maxBodyBytes) });
  };

  /** The answer once its audit entry is stored; a 429 is not audited (a flood would be written once per request). */
  const audited = async (key: ApiKeyRecord, req: http.IncomingMessage, route: ApiRoute, result: ApiAnswer): Promise<ApiAnswer> => {
    if (result.status === 429) return result;
    try {
      await deps.audit.record({
        keyId: key._id,
        application: key.application,
        method: route.method,
        route: route.path,
        status: result.status,
        ...result.audit,
      });
      return result;
    } catch (err) {
      deps.logger.error({ keyId: key._id, route: route.path, ...errorDetails(err) }, 'audit entry could not be written; the call is not answered');
      return failure(new UnavailableProblem('the audit trail cannot be written just now; try again shortly'));
    }
  };

  const failure = (err: unknown): ApiAnswer => {
    const { problem, headers } = problemOf(err);
    return { status: problem.status, body: problem, headers: { ...headers, 'content-type': 'application/problem+json' } };
  };

  const handle = async (req: http.IncomingMessage): Promise<ApiAnswer> => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/openapi.json' && req.method !== 'GET')
      return failure(new ApiProblem(405, 'method-not-allowed', 'Method not allowed', `${req.method} is not allowed on ${path}`, { allow: 'GET' }));
    if (path === '/openapi.json') return { status: 200, body: deps.openapi, headers: { 'content-type': 'application/json' } };
    const matched = match(req.method ?? 'GET', path);
    if (!matched) return failure(new NotFoundProblem(`no API route ${path}`));
    if ('allowed' in matched)
      return failure(
        new ApiProblem(405, 'method-not-allowed', 'Method not allowed', `${req.method} is not allowed on ${path}`, { allow: matched.allowed.join(', ') }),
      );
    let key: ApiKeyRecord;
    try {
      key = await authenticate(req);
    } catch (err) {
      // A revoked key's use is audited too: its holder is known.
      return err instanceof RevokedKeyError ? audited(err.key, req, matched.route, failure(err)) : failure(err);
    }
    let result: ApiAnswer;
    try {
      result = await answer(req, matched, key);
    } catch (err) {
      if (!(err instanceof ApiProblem) && problemOf(err).problem.status >= 500)
        deps.logger.warn({ keyId: key._id, route: matched.route.path, ...errorDetails(err) }, 'API call failed');
      result = failure(err);
    }
    return audited(key, req, matched.route, result);
  };

  return http.createServer((req, res) => {
    if (deps.ops(req, res)) return;
    void handle(req).then(
      (result) => send(res, result),
      (err: unknown) => {
        deps.logger.error(errorDetails(err), 'API request failed');
        send(res, failure(err));
      },
    );
  });
}

class RevokedKeyError extends UnauthorizedError {
  constructor(readonly key: ApiKeyRecord) {
    super('the API key was revoked');
  }
}

function send(res: http.ServerResponse, result: ApiAnswer): void {
  if (res.headersSent) return;
  const body = typeof result.body === 'string' ? result.body : JSON.stringify(result.body);
  res
    .writeHead(result.status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...result.headers })
    .end(body);
}
