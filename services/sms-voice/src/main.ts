// Phone and SMS channel: Twilio webhooks in, TwiML for callers, SMS out through the twilio client.
import { loadConfig } from '#libs/config';
import { runService } from '#libs/service';
import { smsVoiceConfig } from './config';
import { startSmsVoiceService } from './service';

runService('sms-voice', async (ctx) => {
  const config = loadConfig(smsVoiceConfig);
  const { port } = await startSmsVoiceService(ctx, config);
  ctx.logger.info({ http: port }, 'sms-voice listening');
});
