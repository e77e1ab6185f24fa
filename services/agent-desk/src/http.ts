// The desk's HTTP edge: health and metrics, the static page, the routes of routes.ts by method
// and path, and the one place where a failure becomes a status and a sentence. Every
// state-changing request needs the session's CSRF token in a header and an Origin naming this
// host; every answer carries a strict Content-Security-Policy.
import type http from 'node:http';
import { status } from '@grpc/grpc-js';
import { CHANNEL_ENUM, CHANNEL_NAMES } from '#libs/contact';
import { errorDetails, type Logger } from '#libs/observability';
import { type Session, type StaffMember } from '#libs/staff';
import { Tier } from '#libs/proto';
import { BackendError, type Backends, type Caller } from './backends';
import { HttpError, NotFoundError, originAllowed, SECURITY_HEADERS, sendJson, staticFiles } from '#libs/web';

/** The largest JSON body the desk reads. */
export const MAX_BODY_BYTES = 64 * 1024;

export type Route = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

export interface DeskRoutes {
  get: Record<string, Route>;
  post: Record<string, Route>;
}

export interface DeskHttpDeps {
  routes: DeskRoutes;
  publicDir: string;
  logger: Logger;
  /** Health, readiness and metrics; true when it answered. */
  ops(req: http.IncomingMessage, res: http.ServerResponse): boolean;
}

export function caller(session: Session): Caller {
  return { id: session.staffId, role: session.role };
}

/** True when the request's Origin names the host it was sent to (same-origin browser request). */
export function sameOrigin(req: http.IncomingMessage): boolean {
  return originAllowed(req.headers.origin, req.headers.host);
}

/** Registers an agent or expert with routing using their roster profile. */
export async function registerWithRouting(backends: Backends, member: StaffMember): Promise<void> {
  await backends.registerAgent(
    { id: member.id, role: member.role },
    {
      agentId: member.id,
      name: member.name,
      tier: member.tier === 2 ? Tier.TIER_EXPERT : Tier.TIER_FRONT_OFFICE,
      skills: Object.entries(member.skills).map(([name, level]) => ({ name, level })),
      languages: member.languages,
      capacity: CHANNEL_NAMES.flatMap((c) => {
        const capacity = member.capacity[c];
        return capacity === undefined ? [] : [{ channel: CHANNEL_ENUM[c], active: 0, capacity }];
      }),
      totalCapacity: member.capacity.total,
    },
  );
}

export function createDeskHandler(deps: DeskHttpDeps) {
  const { routes, logger } = deps;
  const files = staticFiles(deps.publicDir);
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!;
    try {
      if (deps.ops(req, res)) return;
      if (req.method === 'GET' || req.method === 'HEAD') {
        const file = files.get(path);
        if (file) {
          res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.type }).end(req.method === 'HEAD' ? undefined : file.body);
          return;
        }
        const route = routes.get[path];
        if (route) return await route(req, res);
      } else if (req.method === 'POST') {
        const route = routes.post[path];
        if (route) return await route(req, res);
      }
      throw new NotFoundError(`no such page: ${req.method} ${path}`);
    } catch (err) {
      const { code, message, headers } = httpFailure(err);
      if (code >= 500) logger.error({ path, ...errorDetails(err) }, 'desk request failed');
      if (!res.headersSent) sendJson(res, code, { error: message }, headers);
    }
  };
  /** Every API route as "METHOD /path", for the access matrix test. */
  const names = [...Object.keys(routes.get).map((p) => `GET ${p}`), ...Object.keys(routes.post).map((p) => `POST ${p}`)];
  return Object.assign(handle, { routes: names });
}

/** What an error becomes for the browser: a status and a sentence. */
export function httpFailure(err: unknown): { code: number; message: string; headers: Record<string, string> } {
  if (err instanceof HttpError) return { code: err.status, message: err.message, headers: err.headers };
  if (err instanceof BackendError) {
    const code =
      {
        [status.INVALID_ARGUMENT]: 400,
        [status.NOT_FOUND]: 404,
        [status.FAILED_PRECONDITION]: 409,
        [status.PERMISSION_DENIED]: 403,
        [status.ALREADY_EXISTS]: 409,
      }[err.code as number] ?? 503;
    return { code, message: code === 503 ? `${err.service} is not answering; try again` : err.details, headers: {} };
  }
  return { code: 500, message: 'the desk could not complete this; it is logged', headers: {} };
}
