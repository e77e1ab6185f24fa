import { closeServer, startOpsServer, type OpsHandlerOptions } from '../observability/http';
import type { ServiceContext } from './runtime';

/** Serves /healthz, /readyz and /metrics (and any further probes) on their own port, stopped with the service. */
export async function serveOps(ctx: ServiceContext, port: number, host: string, options: Pick<OpsHandlerOptions, 'probes'> = {}): Promise<number> {
  const { server, port: bound } = await startOpsServer(ctx.metrics, ctx.readiness, port, host, options);
  ctx.onStop('ops http', () => closeServer(server));
  return bound;
}
