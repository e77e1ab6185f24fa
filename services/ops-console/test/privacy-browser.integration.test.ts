// The data-protection officer's page in Debian's Chromium against a real customer-record: the
// officer finds the customer by a verified address or number (masked in the answer), the export is
// a download (application/json, attachment) holding the customer, also when it is larger than one
// gRPC message, the erasure empties the store for them; no other role reaches any of it, and an
// unknown customer is a 404 with a reason.
import { readFile } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, IdentityKind } from '#libs/proto';
import { launchChromium, testAuthEnv, uniqueId } from '#libs/testing';
import { dropDatabase, emailContact, startHarness as startCustomerRecord, type Harness as RecordHarness } from '../../customer-record/test/harness';
import { PASSWORD, signIn, startHarness, type Harness } from './harness';

const SCREENSHOTS = new URL('../../../docs/screenshots/', import.meta.url);
const REQUEST = 'DPR-2026-0042';
const LONG_TEXT = 'Grüße aus Köln — bitte alle Daten. '.repeat(600).slice(0, 20_000);

interface Found {
  customers: { customerId: string; displayName: string; maskedIdentities: string[]; lastContactAt: string | null }[];
  truncated: boolean;
}

describe('data-protection requests in the ops console', () => {
  let record: RecordHarness;
  let h: Harness;
  let browser: Browser;
  let customerId: string;
  let bigId: string;
  const address = `${uniqueId('dana')}@example.com`;
  const number = `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;

  beforeAll(async () => {
    record = await startCustomerRecord();
    const c = emailContact({ sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: address, namespace: '' }, senderDisplayName: 'Erin Example' });
    await record.service.projection.onContact(c);
    customerId = (await record.service.store.findConversation(c.conversationId))!.customerId;
    // A customer whose export is over 4 MiB: a first contact, then 200 long messages in the store.
    const big = emailContact({
      sender: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: number, namespace: '' },
      channel: Channel.CHANNEL_SMS,
      text: LONG_TEXT,
    });
    await record.service.projection.onContact(big);
    bigId = (await record.service.store.findConversation(big.conversationId))!.customerId;
    const entry = (await record.service.store.history.findOne({ customerId: bigId }))!;
    await record.service.store.history.insertMany(
      Array.from({ length: 200 }, (_, i) => ({ ...entry, _id: `${entry._id}-${i}`, text: `${i} ${LONG_TEXT}`.slice(0, 20_000) })),
    );
    h = await startHarness({ ...testAuthEnv('ops-console'), CUSTOMER_RECORD_GRPC_ADDR: `127.0.0.1:${record.service.grpcPort}` });
    browser = await launchChromium();
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
    await record?.stop();
    if (record) await dropDatabase(record.database);
  });

  it('refuses every other role and an unknown customer, specifically', async () => {
    const base = h.console.url;
    for (const id of [h.ids.ops, h.ids.supervisor]) {
      const { session } = await signIn(base, id);
      const res = await fetch(`${base}/api/privacy/customers/${customerId}/export?reason=${REQUEST}`, { headers: { cookie: session!.cookie } });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: string }).error).toBe('data-protection requests are for the privacy role');
    }
    const { session } = await signIn(base, h.ids.privacy);
    // The officer reaches nothing else of the console.
    expect((await fetch(`${base}/api/charts`, { headers: { cookie: session!.cookie } })).status).toBe(403);
    const unknown = await fetch(`${base}/api/privacy/customers/no-such-customer/export?reason=${REQUEST}`, { headers: { cookie: session!.cookie } });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toBe('no customer no-such-customer');
  });

  it('finds customers by a verified address or number for the officer only, with specific errors', async () => {
    const base = h.console.url;
    const { session } = await signIn(base, h.ids.privacy);
    const find = (query: string, cookie = session!.cookie) => fetch(`${base}/api/privacy/customers?${query}&reason=${REQUEST}`, { headers: { cookie } });
    const byEmail = await find(`email=${encodeURIComponent(address.toUpperCase())}`);
    expect(byEmail.status).toBe(200);
    const found = (await byEmail.json()) as Found;
    expect(found.customers).toEqual([
      expect.objectContaining({ customerId, displayName: 'Erin Example', maskedIdentities: [`${address.slice(0, 2)}***@example.com`] }),
    ]);
    expect(found.customers[0]!.lastContactAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const byPhone = (await (await find(`phone=${encodeURIComponent(`(415) 555-${number.slice(-4)}`)}`)).json()) as Found;
    expect(byPhone.customers.map((c) => [c.customerId, c.maskedIdentities])).toEqual([[bigId, [`+1 •••${number.slice(-2)}`]]]);
    expect(await (await find(`email=nobody-${customerId}@example.com`)).json()).toEqual({ customers: [], truncated: false });
    const malformed = await find('phone=12');
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: string }).error).toMatch(/^phone: not a phone number/);
    const both = await find(`email=${address}&phone=${number}`);
    expect(((await both.json()) as { error: string }).error).toBe('give exactly one of email, phone, name and identity; got email and phone');
    // Ids of other kinds: nobody here holds these, and a malformed one is named before customer-record is asked.
    expect(await (await find(`visitor=v-nobody-${customerId}`)).json()).toEqual({ customers: [], truncated: false });
    expect(await (await find(`other=${encodeURIComponent(`loyalty/nobody-${customerId}`)}`)).json()).toEqual({ customers: [], truncated: false });
    for (const [query, error] of [
      ['other=4711', 'other must be <namespace>/<id>, such as loyalty/4711'],
      ['visitor=v-1&other=loyalty%2F4711', 'give one of visitor and other, not both'],
      [`email=${address}&visitor=v-1`, 'give exactly one of email, phone, name and identity; got email and identity'],
    ]) {
      const refused = await find(query!);
      expect(refused.status, query).toBe(400);
      expect(((await refused.json()) as { error: string }).error).toBe(error);
    }
    for (const id of [h.ids.ops, h.ids.supervisor]) {
      const other = await signIn(base, id);
      expect((await find(`email=${address}`, other.session!.cookie)).status).toBe(403);
    }
  });

  it('streams an export larger than one gRPC message to the officer as one file', { timeout: 60_000 }, async () => {
    const { session } = await signIn(h.console.url, h.ids.privacy);
    const res = await fetch(`${h.console.url}/api/privacy/customers/${bigId}/export?reason=${REQUEST}`, { headers: { cookie: session!.cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="customer-${bigId}-\\d{4}-\\d{2}-\\d{2}\\.json"$`));
    const body = Buffer.from(await res.arrayBuffer());
    // Written as customer-record reads it: chunked, its length known at the end only.
    expect([res.headers.get('content-length'), res.headers.get('transfer-encoding')]).toEqual([null, 'chunked']);
    expect(body.length).toBeGreaterThan(4 * 1024 * 1024);
    const exported = JSON.parse(body.toString('utf8'));
    expect(exported.customer._id).toBe(bigId);
    expect(exported.history.map((e: { text: string }) => e.text)).toContain(`199 ${LONG_TEXT}`.slice(0, 20_000));
  });

  it('finds the customer by email, picks them, downloads the export and erases them from the page', async () => {
    const page = await (await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 640 } })).newPage();
    await page.goto(`${h.console.url}/privacy.html`);
    await page.locator('#sign-in-id').fill(h.ids.privacy);
    await page.locator('#sign-in-password').fill(PASSWORD);
    await page.locator('#sign-in-form button[type=submit]').click();
    await page.locator('#app').waitFor({ state: 'visible' });
    await page.locator('#reason').fill(REQUEST);
    await page.locator('#find-by').selectOption('email');
    await page.locator('#find-value').fill(address.toUpperCase());
    await page.locator('#find').click();
    const row = page.locator('#found-rows tr', { hasText: customerId });
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain(`${address.slice(0, 2)}***@example.com`);
    await expect(page.locator('#found').textContent()).resolves.not.toContain(address);
    await row.locator('button.pick').click();
    await expect(page.locator('#customer-id').inputValue()).resolves.toBe(customerId);
    await page.screenshot({ path: new URL('ops-console-privacy-find.png', SCREENSHOTS).pathname });

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export').click()]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`^customer-${customerId}-\\d{4}-\\d{2}-\\d{2}\\.json$`));
    const exported = JSON.parse(await readFile((await download.path())!, 'utf8'));
    expect(exported.customer).toMatchObject({ _id: customerId, displayName: 'Erin Example' });
    expect(exported.identities.map((i: { value: string }) => i.value)).toEqual([address]);

    page.once('dialog', (d) => void d.accept());
    await page.locator('#erase').click();
    await page.locator('#erased').waitFor({ state: 'visible' });
    await expect(page.locator('#erased-counts').textContent()).resolves.toContain('historyEntries1');
    await page.screenshot({ path: new URL('ops-console-privacy.png', SCREENSHOTS).pathname });
    expect(await record.service.store.customers.findOne({ _id: customerId })).toBeNull();
    expect(await record.service.store.identities.countDocuments({ customerId })).toBe(0);
    // Asked again, the customer is gone: the page says so.
    await page.locator('#export').click();
    await page.locator('#request-error', { hasText: `no customer ${customerId}` }).waitFor();
  });
});
