// Routing: queues, tier-1 assignment, escalation to experts, SLA timers and wait estimates.
import { commonConfig, loadConfig, port } from '../../../libs/config';
import { connectKafka, connectMongo, runService, serveOps, startGrpcServer } from '../../../libs/service';

runService('routing', async (ctx) => {
  const config = loadConfig({ ...commonConfig, GRPC_PORT: port(50052), HTTP_PORT: port(8105) });
  await connectMongo(ctx, config);
  await connectKafka(ctx, config);
  const grpc = await startGrpcServer(ctx, { host: config.BIND_HOST, port: config.GRPC_PORT }, ['contactcenter.v1.RoutingService'], () => {});
  const http = await serveOps(ctx, config.HTTP_PORT, config.BIND_HOST);
  ctx.logger.info({ grpc: grpc.port, http }, 'routing listening');
});
