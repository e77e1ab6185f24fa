import { closeServer, startOpsServer } from '../observability/http';
import type { ServiceContext } from './runtime';

/** Serves /healthz, /readyz and /metrics on their own port, stopped with the service. */
export async function serveOps(ctx: ServiceContext, port: number, host: string): Promise<number> {
  const { server, port: bound } = await startOpsServer(ctx.metrics, ctx.readiness, port, host);
  ctx.onStop('ops http', () => closeServer(server));
  return bound;
}
