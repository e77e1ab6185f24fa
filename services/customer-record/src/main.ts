// Customer record: one customer across all channels, history and flags, over gRPC.
import { loadConfig } from '#libs/config';
import { runService } from '#libs/service';
import { customerRecordConfig } from './config';
import { startCustomerRecord } from './service';

runService('customer-record', async (ctx) => {
  const config = loadConfig(customerRecordConfig);
  const { grpcPort, httpPort, startup } = await startCustomerRecord(ctx, config);
  // How long each step of the start took, since the process began: what a slow restart waited for.
  ctx.logger.info({ grpc: grpcPort, http: httpPort, startupMs: startup }, 'customer-record listening');
});
