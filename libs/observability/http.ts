// /healthz, /readyz and /metrics over HTTP, for every service.
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { z } from '../config';

/** A check's answer: ready or not, and optionally why not (shown on /readyz). */
export type ReadinessState = boolean | { ready: boolean; detail?: string };
export type ReadinessCheck = () => ReadinessState | Promise<ReadinessState>;

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, boolean>;
  /** Why a failing check fails, when it says (a dependency waited for, since when). */
  details?: Record<string, string>;
}

/** Named checks that must all pass for the service to be ready (Kafka connected, store reachable...). */
export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();

  add(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  async evaluate(): Promise<ReadinessReport> {
    const checks: Record<string, boolean> = {};
    const details: Record<string, string> = {};
    for (const [name, check] of this.checks) {
      try {
        const state = await check();
        checks[name] = typeof state === 'boolean' ? state : state.ready;
        if (typeof state !== 'boolean' && !state.ready && state.detail) details[name] = state.detail;
      } catch (err) {
        // A check that throws is a failing check; its error says why.
        checks[name] = false;
        details[name] = err instanceof Error ? err.message : String(err);
      }
    }
    const report: ReadinessReport = { ready: Object.values(checks).every(Boolean), checks };
    if (Object.keys(details).length > 0) report.details = details;
    return report;
  }
}

export interface OpsHandlerOptions {
  /**
   * Set on a port the public reaches (the desk, the console, chat, Twilio's webhooks): there
   * /metrics, which names queues, rates and instances, answers only with this bearer token,
   * and not at all (404) without one configured. /healthz and /readyz stay open for probes.
   */
  publicPort?: { metricsToken?: string };
  /**
   * Further paths answered like /readyz from one check each (routing's /activez): 200 or 503 with
   * the reason, for a signal that is not readiness.
   */
  probes?: Record<string, ReadinessCheck>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** True when the request carries `Authorization: Bearer <token>` (compared in constant time). */
function bearerMatches(req: http.IncomingMessage, token: string): boolean {
  const given = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

/**
 * Answers the three operational paths and returns true, or returns false for any other path
 * so a service with its own HTTP server can mount it in front of its routes.
 */
export function createOpsHandler(registry: Registry, readiness: Readiness, options: OpsHandlerOptions = {}) {
  const guard = options.publicPort;
  return (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === '/metrics' && guard) {
      if (!guard.metricsToken) return false; // the service's own routes answer 404
      if (!bearerMatches(req, guard.metricsToken)) {
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="metrics"' }).end('metrics need the bearer token (METRICS_TOKEN)');
        return true;
      }
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return true;
    }
    const probe = path === undefined ? undefined : options.probes?.[path];
    if (probe && path) {
      const single = new Readiness();
      single.add(path.slice(1), probe);
      void single.evaluate().then((report) => {
        res.writeHead(report.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(report));
      });
      return true;
    }
    if (path === '/readyz') {
      void readiness.evaluate().then((report) => {
        res.writeHead(report.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(report));
      });
      return true;
    }
    if (path === '/metrics') {
      void registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(err)}`),
      );
      return true;
    }
    return false;
  };
}

/** METRICS_TOKEN: the bearer token Prometheus sends to scrape /metrics on a public port. */
export const metricsConfig = {
  // Empty is unset, so a compose file can pass it through without setting it.
  METRICS_TOKEN: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v) return undefined;
      if (v.length < 32) ctx.addIssue({ code: 'custom', message: 'must be at least 32 characters' });
      return v;
    }),
};

export async function listen(server: http.Server | import('node:net').Server, port: number, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

export async function closeServer(server: http.Server | import('node:net').Server): Promise<void> {
  if ('closeAllConnections' in server) server.closeIdleConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A plain HTTP server that serves only the operational paths (for services whose API is not HTTP). */
export async function startOpsServer(
  registry: Registry,
  readiness: Readiness,
  port: number,
  host = '127.0.0.1',
  options: Pick<OpsHandlerOptions, 'probes'> = {},
): Promise<{ server: http.Server; port: number }> {
  const handle = createOpsHandler(registry, readiness, options);
  const server = http.createServer((req, res) => {
    if (!handle(req, res)) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  return { server, port: await listen(server, port, host) };
}
