import { describe, expect, it } from 'vitest';
import { ConfigError, commonConfig, loadConfig, port, z } from './index';

describe('loadConfig', () => {
  it('gives defaults for one machine', () => {
    const config = loadConfig({ ...commonConfig, HTTP_PORT: port(8101) }, {});
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(config.MONGODB_URI).toBe('mongodb://127.0.0.1:27017');
    expect(config.HTTP_PORT).toBe(8101);
  });

  it('names every wrong variable with what is wrong', () => {
    let error: unknown;
    try {
      loadConfig({ ...commonConfig, HTTP_PORT: port(8101) }, { KAFKA_BROKERS: 'localhost', HTTP_PORT: '70000', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => p.variable).sort()).toEqual(['HTTP_PORT', 'KAFKA_BROKERS', 'LOG_LEVEL']);
    expect((error as ConfigError).message).toContain('KAFKA_BROKERS: each broker must be host:port');
    expect((error as ConfigError).message).toContain('(got "70000")');
  });

  it('says when a required variable is missing', () => {
    expect(() => loadConfig({ SECRET: z.string() }, {})).toThrow(/SECRET: is required but not set/);
  });
});

describe('loadConfig and secrets', () => {
  const secret = 'tooShortSecretValue-9f3';

  it("never repeats a secret's value, even when the validator quotes it", () => {
    const shape = {
      AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters'),
      OPS_CONSOLE_SESSION_SECRET: z.string().superRefine((v, ctx) => {
        if (v.length < 32) ctx.addIssue({ code: 'custom', message: `"${v}" is too short` });
      }),
      SMTP_PASSWORD: z.enum(['never-this']),
    };
    let error: unknown;
    try {
      loadConfig(shape, { AUTH_JWT_SECRET: secret, OPS_CONSOLE_SESSION_SECRET: secret, SMTP_PASSWORD: secret });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = `${(error as ConfigError).message}\n${JSON.stringify((error as ConfigError).problems)}`;
    expect(text).toContain('AUTH_JWT_SECRET: must be at least 32 characters');
    expect(text).toContain('OPS_CONSOLE_SESSION_SECRET');
    expect(text).toContain('SMTP_PASSWORD');
    expect(text).not.toContain(secret);
    expect(text).not.toContain(secret.slice(0, 12));
  });

  it('shows a store address without its password', () => {
    expect(() =>
      loadConfig(
        { MONGODB_URI: z.string().regex(/^mongodb:\/\/[^@]+$/, 'must not carry credentials') },
        { MONGODB_URI: 'mongodb://cc:hunter2-pass@db-1:27017' },
      ),
    ).toThrow(/MONGODB_URI: must not carry credentials \(got "mongodb:\/\/cc:\*\*\*@db-1:27017"\)/);
    const quoting = z.string().superRefine((v, ctx) => ctx.addIssue({ code: 'custom', message: `cannot reach ${v}` }));
    expect(() => loadConfig({ SMTP_URL: quoting }, { SMTP_URL: 'smtp://mailer:hunter2-pass@mx.example.com:587' })).toThrow(
      /^(?![\s\S]*hunter2)[\s\S]*SMTP_URL: cannot reach smtp:\/\/mailer:\*\*\*@mx\.example\.com:587/,
    );
  });
});
