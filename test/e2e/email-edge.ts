// The email service in the test's process, for end-to-end tests that go through SMTP: mail in on
// its own SMTP port for help@shop.test, mail out caught by an SMTP sink, and a DNS server whose
// SPF record for customer.test allows 127.0.0.1, so test customers' mail authenticates.
import type { ParsedMail } from 'mailparser';
import { loadConfig } from '#libs/config';
import type { ServiceContext } from '#libs/service';
import { dropDatabase, startMailSink, uniqueId } from '#libs/testing';
import { emailConfig } from '../../services/email/src/config';
import { startEmailService } from '../../services/email/src/service';
import { startTestDns } from '../../services/email/test/dns-server';
import { emailTestEnv } from '../../services/email/test/service-env';

export interface EmailEdge {
  /** Every mail the service sent, oldest first. */
  mails: ParsedMail[];
  smtpPort: number;
  /** The attachments' port, when `extra` gave the service its trusted keys (AUTH_PUBLIC_KEYS_DIR). */
  contentPort: number | undefined;
  /** Closes the sink and the DNS server and drops the service's database (the service stops with its context). */
  stop(): Promise<void>;
}

/** `extra` adds to or overrides the service's settings; `now` is its clock (the system's when absent). */
export async function startEmailEdge(ctx: ServiceContext, name: string, extra: Record<string, string> = {}, now?: () => Date): Promise<EmailEdge> {
  const sink = await startMailSink();
  const dns = await startTestDns({ txt: { 'customer.test': ['v=spf1 ip4:127.0.0.1 -all'] } });
  const database = uniqueId(`email_${name}`).replace(/-/g, '_');
  const { smtpPort, contentPort } = await startEmailService(
    ctx,
    loadConfig(emailConfig, {
      ...emailTestEnv(database),
      SUPPORT_ADDRESSES: 'help@shop.test',
      SMTP_URL: sink.url,
      MAIL_FROM: 'Support <support@support.test>',
      EMAIL_OUTBOUND_GROUP: uniqueId(`email-outbound-${name}`),
      EMAIL_DNS_SERVERS: dns.server,
      LOG_LEVEL: 'silent',
      ...extra,
    }),
    { now },
  );
  return {
    mails: sink.mails,
    smtpPort,
    contentPort,
    async stop() {
      await sink.close();
      await dns.close();
      await dropDatabase(database);
    },
  };
}
