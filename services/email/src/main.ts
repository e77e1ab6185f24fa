// Email channel: inbound SMTP to Kafka, replies out through nodemailer.
import { loadConfig } from '#libs/config';
import { runService } from '#libs/service';
import { emailConfig } from './config';
import { startEmailService } from './service';

runService('email', async (ctx) => {
  const config = loadConfig(emailConfig);
  const { smtpPort, httpPort } = await startEmailService(ctx, config);
  ctx.logger.info(
    { smtp: smtpPort, http: httpPort, domains: config.SUPPORT_DOMAINS.length, addresses: config.SUPPORT_ADDRESSES.length },
    'email service listening',
  );
});
