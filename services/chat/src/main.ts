// Web chat channel: widget, WebSocket sessions, replies and wait estimates pushed live.
import { commonConfig, loadConfig, port } from '../../../libs/config';
import { connectKafka, runService, serveOps } from '../../../libs/service';

runService('chat', async (ctx) => {
  const config = loadConfig({ ...commonConfig, HTTP_PORT: port(8103) });
  await connectKafka(ctx, config);
  const http = await serveOps(ctx, config.HTTP_PORT, config.BIND_HOST);
  ctx.logger.info({ http }, 'chat listening');
});
