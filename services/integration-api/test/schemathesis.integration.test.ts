// A property-based run of schemathesis against the running API, with a key of every scope: no
// answer may be a 5xx, and every answer must match openapi.json (status, content type, headers,
// body). schemathesis comes from PyPI into the shared cache (scripts/install-schemathesis.sh);
// its examples and time are bounded (75 s) so the suite stays fast on two cores.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCOPES } from '../src/keys';
import { startConversationHarness, type ConversationHarness } from './conversation-harness';
import type { ApiHarness } from './harness';

const run = promisify(execFile);

describe('schemathesis against the running integration API', () => {
  let st: string;
  let services: ConversationHarness;
  let api: ApiHarness;
  const reports = mkdtempSync(join(tmpdir(), 'cc-schemathesis-'));

  beforeAll(async () => {
    st = execFileSync('bash', ['scripts/install-schemathesis.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    // Real routing and customer-record behind the API, as integrators meet it.
    // schemathesis sends every operation without a key too, all from one address: the cut-off for
    // addresses sending bad keys (tested in contacts.integration.test.ts) would answer it 429.
    services = await startConversationHarness({ env: { INTEGRATION_API_BAD_KEYS_PER_MINUTE: '100000' }, recordEnv: { PROJECTION_ENABLED: 'false' } });
    api = services.api;
  }, 600_000);
  afterAll(async () => {
    await services?.stop();
    rmSync(reports, { recursive: true, force: true });
  });

  it('finds no server error and no answer that the document does not describe', async () => {
    const { key } = await api.key([...SCOPES], 1_000_000);
    // Invalid data larger than the body limit (64 KB) is refused with 413 before it is read, which
    // schemathesis does not count among refusals unless told. A URL the schema allows can still be
    // refused for where it points (the target checks: not public, does not resolve): for that one
    // operation, a 400 is an answer to valid data. So is a transfer to a queue of another channel
    // than the conversation's, which the schema cannot know.
    const configFile = join(reports, 'schemathesis.toml');
    writeFileSync(
      configFile,
      '[checks.negative_data_rejection]\nexpected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]\n\n' +
        '[[operations]]\ninclude-operation-id = "createWebhook"\nchecks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429"]\n' +
        '\n[[operations]]\ninclude-operation-id = "transferConversation"\nchecks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429"]\n',
    );
    const args = [
      '--config-file',
      configFile,
      'run',
      `${api.base}/openapi.json`,
      '--header',
      `Authorization: Bearer ${key}`,
      '--checks',
      'all',
      '--max-examples',
      '20',
      '--workers',
      '1',
      '--phases',
      'examples,coverage,fuzzing',
      '--generation-database',
      'none',
      '--max-time',
      '75',
      '--request-timeout',
      '10',
      '--report',
      'junit',
      '--report-junit-path',
      join(reports, 'junit.xml'),
    ];
    let output = '';
    let code = 0;
    try {
      // Run in the reports folder, where schemathesis also leaves its cache.
      output = (await run(st, args, { cwd: reports, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 16 * 1024 * 1024, timeout: 240_000 })).stdout;
    } catch (err) {
      const failed = err as { stdout?: string; stderr?: string; code?: number };
      output = `${failed.stdout ?? ''}\n${failed.stderr ?? ''}`;
      code = failed.code ?? 1;
    }
    expect(code, output).toBe(0);
    const junit = readFileSync(join(reports, 'junit.xml'), 'utf8');
    // Every documented operation was exercised.
    const operations = [
      'POST /v1/contacts',
      'GET /v1/queues',
      'GET /v1/customers/{customerId}',
      'GET /v1/conversations',
      'POST /v1/conversations',
      'GET /v1/conversations/{conversationId}',
      'POST /v1/conversations/{conversationId}/messages',
      'POST /v1/conversations/{conversationId}/notes',
      'POST /v1/conversations/{conversationId}/resolve',
      'POST /v1/conversations/{conversationId}/transfer',
      'POST /v1/webhooks',
      'GET /v1/webhooks',
      'DELETE /v1/webhooks/{webhookId}',
      'GET /v1/webhooks/{webhookId}/deliveries',
      'POST /v1/webhooks/{webhookId}/replay',
    ];
    for (const op of operations) expect(junit).toContain(op);
  }, 300_000);
});
