// One loopback HTTP server for the SMS and call outbox: Twilio's REST paths are answered by the
// stand-in, `/` is the page of what it received.
import http from 'node:http';
import { outboxPage, PAGE_CSS, type PageLinks } from './page';
import { TwilioStandIn } from './twilio-api';

/** The page shows text from requests: no script may run, nothing but its own stylesheet loads. */
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

export function outboxServer(standIn: TwilioStandIn, links: PageLinks): http.Server {
  return http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (TwilioStandIn.handles(url)) {
      void standIn.answer(req, res);
      return;
    }
    const path = url.split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...PAGE_HEADERS, allow: 'GET, HEAD' }).end();
    } else if (path === '/') {
      res.writeHead(200, { ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8' }).end(outboxPage(standIn.items, links));
    } else if (path === '/outbox.css') {
      res.writeHead(200, { ...PAGE_HEADERS, 'content-type': 'text/css; charset=utf-8' }).end(PAGE_CSS);
    } else if (path === '/healthz') {
      res.writeHead(200, { ...PAGE_HEADERS, 'content-type': 'text/plain; charset=utf-8' }).end('ok\n');
    } else {
      res.writeHead(404, { ...PAGE_HEADERS, 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    }
  });
}

/** Listens on 127.0.0.1 only (port 0: any free one); resolves with the port. */
export function listenOnLoopback(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}
