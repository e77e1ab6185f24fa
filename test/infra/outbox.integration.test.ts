// npm start's outbox as npm start runs it, on free ports: Mailpit as scripts/setup.sh builds it
// (the test command runs the set-up first) and the SMS outbox.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '#libs/testing';
import { createTwilioClient } from '../../services/sms-voice/src/twilio-client';
import { outboxPlan, supervise, type Supervision } from '../../scripts/run-services';

const mailpitBin = execFileSync('bash', ['scripts/infra.sh', 'mailpit-path'], { encoding: 'utf8' }).trim();
const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-outbox-'));
let running: Supervision | undefined;
afterAll(async () => {
  running?.stop(0);
  await running?.done;
  rmSync(dir, { recursive: true, force: true });
});

describe('the outbox as npm start runs it', () => {
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
