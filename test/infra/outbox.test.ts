// npm start's outbox: which parts it runs for which settings (outbox.integration.test.ts runs
// the parts themselves).
import { describe, expect, it } from 'vitest';
import { outboxPlan } from '../../scripts/run-services';

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
