// docs/configuration.md is what `npm run docs:config` writes from the config schemas now.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CONFIG_DOC, SERVICE_CONFIGS, configRows, configTable, defaultOf } from '../../scripts/config-table';

describe('docs/configuration.md', () => {
  it('is up to date with the config schemas (run npm run docs:config)', () => {
    expect(readFileSync(CONFIG_DOC, 'utf8')).toBe(configTable());
  });

  it('lists every variable of every service', () => {
    const rows = configRows();
    for (const [service, shape] of Object.entries(SERVICE_CONFIGS))
      for (const name of Object.keys(shape))
        expect(
          rows.some((r) => r.name === name && r.services.includes(service)),
          `${service} ${name}`,
        ).toBe(true);
  });

  it('says a default as written, optional, or required', () => {
    expect(defaultOf(z.coerce.number().default(5))).toEqual({ kind: 'default', value: '5' });
    expect(
      defaultOf(
        z
          .string()
          .default('a,b')
          .transform((s) => s.split(',')),
      ),
    ).toEqual({ kind: 'default', value: 'a,b' });
    expect(defaultOf(z.string().optional())).toEqual({ kind: 'optional' });
    expect(defaultOf(z.string().min(1))).toEqual({ kind: 'required' });
  });
});
