// npm start's outbox: which parts it runs for which settings, and the parts themselves as npm start
// runs them (Mailpit as scripts/setup.sh builds it, the SMS outbox), each on free ports.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '#libs/testing';
import { createTwilioClient } from '../../services/sms-voice/src/twilio-client';
import { outboxPlan, supervise, type Supervision } from '../../scripts/run-services';

const paths = { mailpitBin: '/cache/mailpit', dataDir: '/clone/.local/outbox' };

describe('what npm start runs to show what customers receive', () => {
  it('runs Mailpit and the SMS outbox by default, and points the email and SMS services at them', () => {
    const plan = outboxPlan({}, paths);
    expect(plan.specs.map((s) => s.name)).toEqual(['mailpit', 'sms-outbox']);
    expect(plan.specs[0]).toMatchObject({
      command: '/cache/mailpit',
      args: expect.arrayContaining(['--listen=127.0.0.1:8025', '--smtp=127.0.0.1:2526', '--database=/clone/.local/outbox/mailpit.db']),
    });
    expect(plan.specs[1]!.args).toEqual(['--import', 'tsx', 'scripts/outbox/main.ts']);
    expect(plan.specs[1]!.env).toMatchObject({ OUTBOX_SMS_PORT: '8026', OUTBOX_MAIL_URL: 'http://127.0.0.1:8025' });
    expect(plan.serviceEnv).toEqual({ email: { SMTP_URL: 'smtp://127.0.0.1:2526' }, 'sms-voice': { TWILIO_API_BASE_URL: 'http://127.0.0.1:8026' } });
    expect(plan.listing.map((l) => l.listens).join('\n')).toMatch(/web http:\/\/127\.0\.0\.1:8025[\s\S]*http:\/\/127\.0\.0\.1:8026/);
  });

  it('starts nothing for a real SMTP server or Twilio that is set, and never prints a password', () => {
    const plan = outboxPlan({ SMTP_URL: 'smtps://me:secret@smtp.example.com:465', TWILIO_API_BASE_URL: 'https://api.twilio.com' }, paths);
    expect(plan.specs).toEqual([]);
    expect(plan.serviceEnv).toEqual({});
    expect(plan.listing.map((l) => l.listens).join('\n')).not.toContain('secret');
    expect(outboxPlan({ SMTP_URL: 'smtp://relay:25' }, paths).specs.map((s) => s.name)).toEqual(['sms-outbox']);
    expect(outboxPlan({ TWILIO_API_BASE_URL: 'https://api.twilio.com' }, paths).specs.map((s) => s.name)).toEqual(['mailpit']);
  });

  it('takes its ports from OUTBOX_SMTP_PORT, OUTBOX_MAIL_PORT and OUTBOX_SMS_PORT, and refuses one that is not a port', () => {
    const plan = outboxPlan({ OUTBOX_SMTP_PORT: '3025', OUTBOX_MAIL_PORT: '3080', OUTBOX_SMS_PORT: '3081' }, paths);
    expect(plan.serviceEnv).toEqual({ email: { SMTP_URL: 'smtp://127.0.0.1:3025' }, 'sms-voice': { TWILIO_API_BASE_URL: 'http://127.0.0.1:3081' } });
    expect(plan.specs[0]!.args).toContain('--listen=127.0.0.1:3080');
    expect(() => outboxPlan({ OUTBOX_SMS_PORT: 'eighty' }, paths)).toThrow('OUTBOX_SMS_PORT must be a port number (got "eighty")');
  });
});

const mailpitBin = execFileSync('bash', ['scripts/infra.sh', 'mailpit-path'], { encoding: 'utf8' }).trim();
const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-outbox-'));
let running: Supervision | undefined;
afterAll(async () => {
  running?.stop(0);
  await running?.done;
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.skipIf(!existsSync(mailpitBin))('the outbox as npm start runs it (Mailpit built by scripts/setup.sh)', () => {
  it('shows a mail sent to its SMTP port in Mailpit, and an SMS sent to the stand-in on its page', async () => {
    const env = { OUTBOX_SMTP_PORT: String(await freePort()), OUTBOX_MAIL_PORT: String(await freePort()), OUTBOX_SMS_PORT: String(await freePort()) };
    const plan = outboxPlan(env, { mailpitBin, dataDir: dir });
    const lines: string[] = [];
    running = supervise(plan.specs, { write: (t) => lines.push(t), report: (t) => lines.push(t), stopGraceMs: 5000 });
    const web = `http://127.0.0.1:${env.OUTBOX_MAIL_PORT}`;
    const sms = plan.serviceEnv['sms-voice']!.TWILIO_API_BASE_URL!;
    const up = (url: string) => () =>
      fetch(url).then(
        (r) => r.ok,
        () => false,
      );
    await waitFor(up(`${web}/readyz`), 20_000, `Mailpit at ${web} (${lines.join('')})`);
    await waitFor(up(`${sms}/healthz`), 20_000, `the SMS outbox at ${sms} (${lines.join('')})`);

    await nodemailer.createTransport(plan.serviceEnv.email!.SMTP_URL!).sendMail({
      from: 'Support <support@example.com>',
      to: 'customer@example.org',
      subject: 'Re: my order',
      text: 'Your parcel is on its way.',
    });
    const list = await waitFor(
      async () => {
        const body = (await (await fetch(`${web}/api/v1/messages`)).json()) as { messages: { Subject: string; To: { Address: string }[] }[] };
        return body.messages.length > 0 && body.messages;
      },
      5000,
      'the mail in Mailpit',
    );
    expect(list[0]).toMatchObject({ Subject: 'Re: my order', To: [{ Address: 'customer@example.org' }] });
    expect((await fetch(`${web}/`)).status).toBe(200);

    const client = createTwilioClient({ TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000', TWILIO_AUTH_TOKEN: 'local', TWILIO_API_BASE_URL: sms });
    await client.messages.create({ from: '+15005550001', to: '+15005550006', body: 'We have your message.' });
    expect(await (await fetch(`${sms}/`)).text()).toContain('We have your message.');
  });
});
