// Phone and SMS channel: Twilio webhooks in, TwiML for callers, SMS out through the twilio client.
import { commonConfig, loadConfig, port } from '../../../libs/config';
import { connectKafka, runService, serveOps } from '../../../libs/service';

runService('sms-voice', async (ctx) => {
  const config = loadConfig({ ...commonConfig, HTTP_PORT: port(8102) });
  await connectKafka(ctx, config);
  const http = await serveOps(ctx, config.HTTP_PORT, config.BIND_HOST);
  ctx.logger.info({ http }, 'sms-voice listening');
});
