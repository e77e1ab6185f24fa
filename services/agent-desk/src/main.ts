// Agent desk: the web application agents, experts and supervisors work in.
import { commonConfig, loadConfig, port } from '../../../libs/config';
import { connectMongo, runService, serveOps } from '../../../libs/service';

runService('agent-desk', async (ctx) => {
  const config = loadConfig({ ...commonConfig, HTTP_PORT: port(8080) });
  await connectMongo(ctx, config);
  const http = await serveOps(ctx, config.HTTP_PORT, config.BIND_HOST);
  ctx.logger.info({ http }, 'agent-desk listening');
});
