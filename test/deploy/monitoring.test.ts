// deploy/monitoring: the alert rules load in Prometheus and fire as alerts.test.yaml expects
// (promtool, from Debian's package: scripts/install-promtool.sh), and every metric the rules and the dashboard read is one the
// services declare, with the labels it is declared with.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, declaredMetrics, defaultMetricNames, metricsIn } from './metrics';

const RULES = join(ROOT, 'deploy/monitoring/alerts.yaml');
const DASHBOARD = join(ROOT, 'deploy/monitoring/grafana-dashboard.json');
const PROMTOOL = '/usr/bin/promtool';

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const groups = (parse(readFileSync(RULES, 'utf8')) as { groups: { name: string; rules: Rule[] }[] }).groups;
const rules = groups.flatMap((g) => g.rules);

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: { expr: string }[];
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid: string; panels: Panel[]; annotations: { list: { expr?: string }[] } };
const panels = dashboard.panels.filter((p) => p.type !== 'row');

/** Labels every series has besides its own: the registry's default label and Prometheus' target labels. */
const COMMON_LABELS = new Set(['service', 'instance', 'job', 'le']);
/** Prometheus' own series. */
const BUILT_IN = new Set(['up']);

function unknownMetrics(exprs: string[]): string[] {
  const declared = declaredMetrics();
  const defaults = defaultMetricNames();
  const problems: string[] = [];
  for (const expr of exprs) {
    for (const use of metricsIn(expr)) {
      if (BUILT_IN.has(use.name) || defaults.has(use.name)) continue;
      const metric = declared.get(use.name) ?? declared.get(use.name.replace(/_(bucket|sum|count)$/, ''));
      if (!metric) {
        problems.push(`${use.name} (in ${expr.trim()}) is declared nowhere in libs/ or services/*/src`);
        continue;
      }
      for (const label of use.labels)
        if (!COMMON_LABELS.has(label) && !metric.labels.includes(label)) problems.push(`${use.name} has no label ${label} (${metric.file})`);
    }
  }
  return problems;
}

describe('alert rules', () => {
  it('pass promtool check rules', () => {
    expect(existsSync(PROMTOOL), 'promtool is missing: bash scripts/install-promtool.sh').toBe(true);
    const out = execFileSync(PROMTOOL, ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
  });

  it('fire on the series the services export (promtool test rules)', () => {
    expect(existsSync(PROMTOOL), 'promtool is missing: bash scripts/install-promtool.sh').toBe(true);
    const out = execFileSync(PROMTOOL, ['test', 'rules', 'alerts.test.yaml'], { cwd: join(ROOT, 'deploy/monitoring'), encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
  });

  it('cover what operators page on, each with a severity and a summary', () => {
    const names = rules.map((r) => r.alert);
    for (const wanted of [
      'ConsumerLagGrowing',
      'DeadLettersArriving',
      'ServiceLevelUnderTarget',
      'WaitEstimateErrorHigh',
      'RoutingTakeOver',
      'EmailDeferring',
      'TwilioWebhooksFailing',
      'ReadinessLost',
    ])
      expect(names).toContain(wanted);
    expect(new Set(names).size).toBe(names.length);
    for (const r of rules) {
      expect(r.labels?.severity, r.alert).toMatch(/^(info|warning|critical)$/);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
    }
  });

  it('read only metrics the services declare', () => {
    expect(unknownMetrics(rules.map((r) => r.expr))).toEqual([]);
  });
});

describe('Grafana dashboard', () => {
  it('has unique panel ids, and a query on every panel through the datasource variable', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) expect(p.targets?.length, p.title).toBeGreaterThan(0);
    expect(readFileSync(DASHBOARD, 'utf8')).not.toMatch(/"uid":\s*"(?!\$\{datasource\}|contactcenter")/);
  });

  it('queries only metrics the services declare', () => {
    const exprs = [...panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...dashboard.annotations.list.flatMap((a) => (a.expr ? [a.expr] : []))];
    expect(unknownMetrics(exprs)).toEqual([]);
  });
});

describe('metric names in PromQL', () => {
  it('are read from selectors, functions and aggregations, with their matchers', () => {
    expect(metricsIn('sum by (group) (rate(cc_a_total{outcome="x", service=~"$service"}[5m])) > 0 and on () cc_b < bool 1')).toEqual([
      { name: 'cc_a_total', labels: ['outcome', 'service'] },
      { name: 'cc_b', labels: [] },
    ]);
    expect(metricsIn('histogram_quantile(0.95, sum by (le) (rate(cc_h_bucket[$__rate_interval])))')).toEqual([{ name: 'cc_h_bucket', labels: [] }]);
  });

  it('find a misspelt metric or label', () => {
    expect(unknownMetrics(['rate(cc_kafka_consumed{outcome="x"}[1m])', 'cc_kafka_consumer_lag{topik="x"}'])).toHaveLength(2);
  });
});
