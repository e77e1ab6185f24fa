// Customer record: one customer across all channels, history and flags, over gRPC.
import { loadConfig } from '#libs/config';
import { runService } from '#libs/service';
import { customerRecordConfig } from './config';
import { startCustomerRecord } from './service';

runService('customer-record', async (ctx) => {
  const config = loadConfig(customerRecordConfig);
  const { grpcPort, httpPort } = await startCustomerRecord(ctx, config);
  ctx.logger.info({ grpc: grpcPort, http: httpPort }, 'customer-record listening');
});
