// Ops console: live event stream, queue and SLA views, dead letters.
import { commonConfig, loadConfig, port } from '../../../libs/config';
import { connectKafka, runService, serveOps } from '../../../libs/service';

runService('ops-console', async (ctx) => {
  const config = loadConfig({ ...commonConfig, HTTP_PORT: port(8090) });
  await connectKafka(ctx, config);
  const http = await serveOps(ctx, config.HTTP_PORT, config.BIND_HOST);
  ctx.logger.info({ http }, 'ops-console listening');
});
