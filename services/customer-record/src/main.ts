// Customer record: one customer across all channels, history and flags, over gRPC.
import { commonConfig, loadConfig, port } from '../../../libs/config';
import { connectKafka, connectMongo, runService, serveOps, startGrpcServer } from '../../../libs/service';

runService('customer-record', async (ctx) => {
  const config = loadConfig({ ...commonConfig, GRPC_PORT: port(50051), HTTP_PORT: port(8104) });
  await connectMongo(ctx, config);
  await connectKafka(ctx, config);
  const grpc = await startGrpcServer(ctx, { host: config.BIND_HOST, port: config.GRPC_PORT }, ['contactcenter.v1.CustomerRecordService'], () => {});
  const http = await serveOps(ctx, config.HTTP_PORT, config.BIND_HOST);
  ctx.logger.info({ grpc: grpc.port, http }, 'customer-record listening');
});
