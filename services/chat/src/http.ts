// The chat's plain HTTP side: the widget script, the demo page, and the ops paths.
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import type { Registry } from 'prom-client';
import { createOpsHandler, type Readiness } from '#libs/observability';

const WIDGET_JS = readFileSync(new URL('../public/widget.js', import.meta.url), 'utf8');
const DEMO_HTML = readFileSync(new URL('../public/demo.html', import.meta.url), 'utf8');

const DEMO_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'";

export function createPagesHandler(metrics: Registry, readiness: Readiness, metricsToken: string | undefined) {
  // Visitors' browsers reach this port: /metrics needs the bearer token here.
  const ops = createOpsHandler(metrics, readiness, { publicPort: { metricsToken } });
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (ops(req, res)) return;
    const path = (req.url ?? '/').split('?')[0];
    const common = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (read && path === '/widget.js') {
      res.writeHead(200, { ...common, 'content-type': 'application/javascript; charset=utf-8', 'cache-control': 'public, max-age=300' }).end(WIDGET_JS);
      return;
    }
    if (read && (path === '/' || path === '/demo')) {
      res.writeHead(200, { ...common, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': DEMO_CSP }).end(DEMO_HTML);
      return;
    }
    res.writeHead(404, { ...common, 'content-type': 'text/plain' }).end('not found');
  };
}
