import { describe, expect, it } from 'vitest';
import { createServiceContext } from './runtime';

describe('service context', () => {
  it('exports its readiness checks as cc_ready, evaluated at each scrape', async () => {
    const ctx = createServiceContext('ready-metric-test', { logLevel: 'silent' });
    let kafka = true;
    ctx.readiness.add('kafka', () => kafka);
    ctx.readiness.add('mongodb', () => true);
    expect(await ctx.metrics.metrics()).toMatch(/^cc_ready\{check="kafka",service="ready-metric-test"\} 1$/m);
    kafka = false;
    const text = await ctx.metrics.metrics();
    expect(text).toMatch(/^cc_ready\{check="kafka",service="ready-metric-test"\} 0$/m);
    expect(text).toMatch(/^cc_ready\{check="mongodb",service="ready-metric-test"\} 1$/m);
  });
});
