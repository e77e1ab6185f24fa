// Routing: queues, tier-1 assignment, escalation to experts, SLA timers and wait estimates.
import { loadConfig } from '#libs/config';
import { runService } from '#libs/service';
import { routingConfig } from './config';
import { startRouting } from './service';

runService('routing', async (ctx) => {
  const config = loadConfig(routingConfig);
  const { grpcPort, httpPort } = await startRouting(ctx, config);
  ctx.logger.info({ grpc: grpcPort, http: httpPort }, 'routing listening');
});
