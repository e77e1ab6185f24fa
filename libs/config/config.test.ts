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
