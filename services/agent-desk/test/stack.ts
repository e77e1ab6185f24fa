// The services a desk test (or the voice benchmark) runs beside the desk, in-process, each with
// the settings these tests share: customer-record, routing with a test's own rule, sms-voice
// against the Twilio stand-in, and the desk itself. Also a signed Twilio webhook.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import twilio from 'twilio';
import { loadConfig } from '#libs/config';
import type { ServiceContext } from '#libs/service';
import { KAFKA_BROKERS, MONGODB_URI, freePort, testAuthEnv, uniqueId, waitFor, TEST_COMPANY_NUMBER } from '#libs/testing';
import { customerRecordConfig } from '../../customer-record/src/config';
import { startCustomerRecord } from '../../customer-record/src/service';
import { routingConfig } from '../../routing/src/config';
import { startRouting } from '../../routing/src/service';
import { listenOnLoopback, outboxServer } from '../../../scripts/outbox/server';
import type { TwilioStandIn } from '../../../scripts/outbox/twilio-api';
import { smsVoiceConfig } from '../../sms-voice/src/config';
import { startSmsVoiceService } from '../../sms-voice/src/service';
import { agentDeskConfig, startAgentDesk } from '../src/service';

/** What every service of one test shares: the broker, the store, one database, quiet logs. */
export function commonEnv(database: string, logLevel = 'silent') {
  return { KAFKA_BROKERS: KAFKA_BROKERS.join(','), MONGODB_URI, MONGODB_DATABASE: database, HTTP_PORT: '0', LOG_LEVEL: logLevel };
}

export { freePort };

export function startTestRecord(ctx: ServiceContext, database: string, name: string) {
  return startCustomerRecord(
    ctx,
    loadConfig(customerRecordConfig, {
      ...commonEnv(database),
      GRPC_PORT: '0',
      ...testAuthEnv('customer-record'),
      PROJECTION_GROUP_ID: uniqueId(`${name}-projection`),
      PROJECTION_FROM_BEGINNING: 'false',
      CONTEXT_CACHE_TTL_MS: '0',
    }),
  );
}

/** Routing sending only what `rule` matches to the test's skill; customer-record when given. */
export function startTestRouting(ctx: ServiceContext, database: string, name: string, rule: unknown, recordPort?: number, logLevel = 'silent') {
  return startRouting(
    ctx,
    loadConfig(routingConfig, {
      ...commonEnv(database, logLevel),
      GRPC_PORT: '0',
      ...testAuthEnv('routing'),
      ...(recordPort ? { CUSTOMER_RECORD_GRPC_ADDR: `127.0.0.1:${recordPort}`, ROUTING_CUSTOMER_LOOKUP_TIMEOUT_MS: '5000' } : {}),
      ROUTING_CONSUMER_GROUP: uniqueId(`${name}-routing`),
      ROUTING_OFFER_TIMEOUT_MS: '180000',
      ROUTING_TICK_MS: '100',
      ROUTING_RULES_JSON: JSON.stringify([rule]),
    }),
    { policy: { stepTimeoutMs: { accountManager: 20_000, lastAgent: 15_000, skilled: 3_600_000, anyLevel: 3_600_000 } } },
  );
}

export interface TestTwilio {
  authToken: string;
  accountSid: string;
  /** The stand-in's address. */
  apiBase: string;
  spoolDir: string;
}

/** sms-voice on a port of its own (its webhooks are signed for that address), calling the stand-in. */
export async function startTestSmsVoice(
  ctx: ServiceContext,
  database: string,
  name: string,
  t: TestTwilio,
  extra: Record<string, string> = {},
  logLevel = 'silent',
) {
  const port = await freePort();
  const started = await startSmsVoiceService(
    ctx,
    loadConfig(smsVoiceConfig, {
      ...commonEnv(database, logLevel),
      ...testAuthEnv('sms-voice'),
      STAFF_DB: database,
      HTTP_PORT: String(port),
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      SMS_VOICE_SPOOL_DIR: t.spoolDir,
      TWILIO_AUTH_TOKEN: t.authToken,
      TWILIO_ACCOUNT_SID: t.accountSid,
      TWILIO_API_BASE_URL: t.apiBase,
      SMS_OUTBOUND_GROUP: uniqueId(`${name}-outbound`),
      SMS_COMPANY_NUMBER: TEST_COMPANY_NUMBER,
      ...extra,
    }),
  );
  return { ...started, url: `http://127.0.0.1:${started.port}` };
}

/**
 * The Twilio stand-in on a loopback port and sms-voice calling it, with a spool directory of its
 * own; the stand-in closes and the directory goes when `ctx` stops, after sms-voice.
 */
export async function startTestPhone(
  ctx: ServiceContext,
  database: string,
  name: string,
  standIn: TwilioStandIn,
  account: Pick<TestTwilio, 'authToken' | 'accountSid'>,
  extra: Record<string, string> = {},
  logLevel = 'silent',
) {
  const outbox = outboxServer(standIn, { consoleUrl: 'http://127.0.0.1:8090' });
  const apiBase = `http://127.0.0.1:${await listenOnLoopback(outbox, 0)}`;
  const spoolDir = mkdtempSync(path.join(tmpdir(), `${name}-spool-`));
  ctx.onStop('twilio stand-in', async () => {
    outbox.closeAllConnections();
    await new Promise((r) => outbox.close(r));
    rmSync(spoolDir, { recursive: true, force: true });
  });
  const smsVoice = await startTestSmsVoice(ctx, database, name, { ...account, apiBase, spoolDir }, extra, logLevel);
  return { ...smsVoice, outbox, spoolDir, apiBase };
}

export function startTestDesk(ctx: ServiceContext, database: string, ports: { routing: number; record: number }, extra: Record<string, string> = {}) {
  return startAgentDesk(
    ctx,
    loadConfig(agentDeskConfig, {
      MONGODB_URI,
      KAFKA_BROKERS: KAFKA_BROKERS.join(','),
      HTTP_PORT: '0',
      ...testAuthEnv('agent-desk'),
      AGENT_DESK_SESSION_SECRET: 'agent-desk-test-secret-0123456789-abcdef',
      STAFF_DB: database,
      ROUTING_GRPC_ADDR: `127.0.0.1:${ports.routing}`,
      CUSTOMER_RECORD_GRPC_ADDR: `127.0.0.1:${ports.record}`,
      LOG_LEVEL: 'silent',
      ...extra,
    }),
  );
}

/** A Twilio webhook to `url`, signed as Twilio signs it; resolves with the answer's status. */
export async function signedWebhook(url: string, authToken: string, params: Record<string, string>): Promise<number> {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, url, params) };
  return (await fetch(url, { method: 'POST', headers, body: new URLSearchParams(params) })).status;
}

/** Signs `id` in on the desk's page and waits for their role in the bar and the live link. */
export async function signInPage(page: Page, desk: string, id: string, password: string, role: string): Promise<Page> {
  await page.goto(desk);
  await page.locator('#signin-id').fill(id);
  await page.locator('#signin-password').fill(password);
  await page.locator('#signin-password').press('Enter');
  await page.locator('#who').filter({ hasText: role }).waitFor({ timeout: 20_000 });
  await page.locator('#link').filter({ hasText: 'live' }).waitFor({ timeout: 20_000 });
  return page;
}

/**
 * A row of a supervisor's live list (`live-calls` or `live-chats`), Show pressed until the
 * conversation is listed; its cells as text, and the list's section saved to `shot` when given.
 */
export async function liveListRow(page: Page, list: 'live-calls' | 'live-chats', conversationId: string, shot?: string) {
  const row = page.locator(`#${list} tr[data-conversation="${conversationId}"]`);
  await waitFor(
    async () => {
      await page.locator(`#${list}-load`).click();
      return (await row.count()) > 0;
    },
    60_000,
    `the conversation in the ${list.replace('-', ' ')} list`,
  );
  if (shot) await page.locator(`#${list}`).locator('xpath=..').screenshot({ path: shot });
  const [, queue, agent, , state] = await row.locator('td').allTextContents();
  return { row, queue, agent, state };
}
