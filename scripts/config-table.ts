// Writes docs/configuration.md: every environment variable of every service, from the services'
// own config schemas, so the table cannot drift from what the services read.
//   npm run docs:config      rewrite it (test/deploy/config-table.test.ts fails while it is stale)
// The descriptions are the doc comments above each schema key (or a zod .describe()).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { agentDeskConfig } from '../services/agent-desk/src/config';
import { chatConfig } from '../services/chat/src/config';
import { customerRecordConfig } from '../services/customer-record/src/config';
import { emailConfig } from '../services/email/src/config';
import { integrationApiConfig } from '../services/integration-api/src/config';
import { opsConsoleConfig } from '../services/ops-console/src/config';
import { routingConfig } from '../services/routing/src/config';
import { smsVoiceConfig } from '../services/sms-voice/src/config';

const ROOT = new URL('../', import.meta.url).pathname;
export const CONFIG_DOC = join(ROOT, 'docs/configuration.md');

/** Each service folder under services/ and the schema its main.ts loads. */
export const SERVICE_CONFIGS: Record<string, Record<string, z.ZodType>> = {
  email: emailConfig,
  'sms-voice': smsVoiceConfig,
  chat: chatConfig,
  'customer-record': customerRecordConfig,
  routing: routingConfig,
  'agent-desk': agentDeskConfig,
  'ops-console': opsConsoleConfig,
  'integration-api': integrationApiConfig,
};

/** The value a `.default()` inside the schema (under pipes, transforms and optionals) gives, as written. */
function writtenDefault(schema: z.ZodType): unknown {
  let def = (schema as unknown as { _zod?: { def?: ZodDef } })._zod?.def;
  for (let depth = 0; def && depth < 10; depth++) {
    if (def.type === 'default') return def.defaultValue;
    def = (def.in ?? def.innerType)?._zod?.def;
  }
  return undefined;
}
interface ZodDef {
  type: string;
  defaultValue?: unknown;
  in?: { _zod?: { def?: ZodDef } };
  innerType?: { _zod?: { def?: ZodDef } };
}

/** What a variable is when unset: its default, optional (unset is allowed), or required. */
export function defaultOf(schema: z.ZodType): { kind: 'default'; value: string } | { kind: 'optional' } | { kind: 'required' } {
  const parsed = schema.safeParse(undefined);
  if (!parsed.success) return { kind: 'required' };
  const written = writtenDefault(schema);
  // A default as written reads better than what it parses to (a list of proxies, a key).
  const v: unknown = ['string', 'number', 'boolean'].includes(typeof written) ? written : parsed.data;
  if (v === undefined || v === '') return { kind: 'optional' };
  return { kind: 'default', value: Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v as string | number | boolean) };
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.parentPath.includes('/gen'))
    .map((e) => join(e.parentPath, e.name));
}

/** `/** text *\/` right above `NAME:` in a file, by NAME. */
function docComments(file: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of readFileSync(file, 'utf8').matchAll(/\/\*\*((?:[^*]|\*(?!\/))*)\*\/\s*\n\s*([A-Z][A-Z0-9_]*):/g)) {
    const text = m[1]!
      .split('\n')
      .map((l) => l.replace(/^\s*\*?\s?/, '').trim())
      .filter(Boolean)
      .join(' ');
    found.set(m[2]!, text);
  }
  // `/** NAME: text */` above a shape of one variable (trustedProxyConfig, metricsConfig).
  for (const m of readFileSync(file, 'utf8').matchAll(/\/\*\*\s*([A-Z][A-Z0-9_]+): ((?:[^*]|\*(?!\/))*)\*\//g))
    if (!found.has(m[1]!)) found.set(m[1]!, m[2]!.replace(/\s*\n\s*\*?\s*/g, ' ').trim());
  return found;
}

/** Descriptions: the service's own config.ts first, then the shared code's; sign-in fields by their unprefixed name. */
function describer(service: string): (name: string, schema: z.ZodType) => string {
  const own = docComments(join(ROOT, `services/${service}/src/config.ts`));
  const shared = new Map<string, string>();
  for (const file of tsFiles('libs')) for (const [k, v] of docComments(file)) if (!shared.has(k)) shared.set(k, v);
  const signIn = docComments(join(ROOT, 'libs/web/sign-in-config.ts'));
  return (name, schema) => {
    const direct = schema.description ?? own.get(name) ?? shared.get(name);
    if (direct) return sentence(direct);
    for (const [suffix, text] of signIn) if (name.endsWith(`_${suffix}`)) return sentence(text);
    return '';
  };
}

const sentence = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

interface Row {
  name: string;
  services: string[];
  unset: string;
  description: string;
}

export function configRows(): Row[] {
  const rows = new Map<string, Row>();
  for (const [service, shape] of Object.entries(SERVICE_CONFIGS)) {
    const describe = describer(service);
    for (const [name, schema] of Object.entries(shape)) {
      const d = defaultOf(schema);
      const unset = d.kind === 'default' ? `\`${d.value}\`` : d.kind === 'required' ? '**required**' : 'unset';
      const description = describe(name, schema);
      // One row for a variable that reads the same everywhere; one per service where it differs.
      const key = JSON.stringify([name, unset, description]);
      const row = rows.get(key);
      if (row) row.services.push(service);
      else rows.set(key, { name, services: [service], unset, description });
    }
  }
  return [...rows.values()].sort((a, b) => a.name.localeCompare(b.name) || a.services[0]!.localeCompare(b.services[0]!));
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function configTable(): string {
  const all = Object.keys(SERVICE_CONFIGS).length;
  const lines = [
    '# Configuration',
    '',
    '<!-- Generated by `npm run docs:config` (scripts/config-table.ts) from the config schemas in',
    '     services/*/src/config.ts; do not edit by hand: a test fails when this file is stale. -->',
    '',
    'Every environment variable the services read. **Default** is the value used when the variable is',
    'unset: a value, "unset" (the feature it configures is off, or derived), or **required** (the',
    'service does not start without it). The docs of each service say more about its own settings.',
    '',
    '| Variable | Services | Default | Description |',
    '| --- | --- | --- | --- |',
    ...configRows().map((r) => `| \`${r.name}\` | ${r.services.length === all ? 'all' : r.services.join(', ')} | ${cell(r.unset)} | ${cell(r.description)} |`),
    '',
  ];
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  writeFileSync(CONFIG_DOC, configTable());
  console.log(`wrote ${CONFIG_DOC}`);
}
