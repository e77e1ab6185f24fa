// The metric names the services declare, and the names a PromQL expression reads, for the tests
// over deploy/monitoring: an alert or a panel over a metric nobody exports would stay silent.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = new URL('../../', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name))
    .filter((p) => !p.includes('/test/') && !p.includes('/gen/'));
}

export interface DeclaredMetric {
  name: string;
  labels: string[];
  file: string;
}

/** Every `name: 'cc_…'` given to prom-client in libs/ and services/*\/src, with its labelNames. */
export function declaredMetrics(): Map<string, DeclaredMetric> {
  const found = new Map<string, DeclaredMetric>();
  for (const file of [...sources('libs'), ...sources('services')]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/name:\s*'(cc_[a-z0-9_]+)'/g)) {
      // The declaration's own object: up to the next metric name or a few lines on.
      const rest = text.slice(m.index + m[0].length, m.index + 600).split(/name:\s*'/)[0] ?? '';
      const labels = /labelNames:\s*\[([^\]]*)\]/.exec(rest)?.[1]?.match(/'([^']+)'/g) ?? [];
      found.set(m[1]!, { name: m[1]!, labels: labels.map((l) => l.slice(1, -1)), file });
    }
  }
  return found;
}

/** The default metrics prom-client's collectDefaultMetrics (libs/observability) registers. */
export function defaultMetricNames(): Set<string> {
  const dir = join(ROOT, 'node_modules/prom-client/lib/metrics');
  const names = new Set<string>();
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.js')))
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/'((?:process|nodejs)_[a-z0-9_]+)'/g)) names.add(m[1]!);
  return names;
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

export interface MetricUse {
  name: string;
  /** Label names matched in its selector ({outcome="…"}). */
  labels: string[];
}

/** The metrics one PromQL expression selects (Grafana's $variables allowed). */
export function metricsIn(expr: string): MetricUse[] {
  const uses: MetricUse[] = [];
  let e = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\$\{[^}]*\}|\$[A-Za-z_]+/g, '')
    .replace(/\[[^\]]*\]/g, '');
  e = e.replace(/([A-Za-z_:][A-Za-z0-9_:]*)?\s*\{([^}]*)\}/g, (_all, name: string | undefined, matchers: string) => {
    const labels = [...matchers.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]!);
    if (name) uses.push({ name, labels });
    return ' ';
  });
  e = e.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  for (const m of e.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const [, word, call] = m;
    if (call || KEYWORDS.has(word!.toLowerCase()) || /^\d/.test(word!)) continue;
    uses.push({ name: word!, labels: [] });
  }
  return uses;
}
