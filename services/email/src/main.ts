// Email channel: inbound SMTP to Kafka, replies out through nodemailer.
import { commonConfig, loadConfig, port } from '../../../libs/config';
import { connectKafka, runService, serveOps } from '../../../libs/service';

runService('email', async (ctx) => {
  const config = loadConfig({ ...commonConfig, SMTP_PORT: port(2525), HTTP_PORT: port(8101) });
  await connectKafka(ctx, config);
  const http = await serveOps(ctx, config.HTTP_PORT, config.BIND_HOST);
  ctx.logger.info({ http }, 'email service listening');
});
