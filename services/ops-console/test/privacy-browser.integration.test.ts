// The data-protection officer's page in Debian's Chromium against a real customer-record: the
// export is a download (application/json, attachment) holding the customer, the erasure empties
// the store for them; no other role reaches either, and an unknown customer is a 404 with a reason.
import { readFile } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityKind } from '#libs/proto';
import { launchChromium, testAuthEnv, uniqueId } from '#libs/testing';
import { dropDatabase, emailContact, startHarness as startCustomerRecord, type Harness as RecordHarness } from '../../customer-record/test/harness';
import { PASSWORD, signIn, startHarness, type Harness } from './harness';

const SCREENSHOTS = new URL('../../../docs/screenshots/', import.meta.url);
const REQUEST = 'DPR-2026-0042';

describe('data-protection requests in the ops console', () => {
  let record: RecordHarness;
  let h: Harness;
  let browser: Browser;
  let customerId: string;
  const address = `${uniqueId('dana')}@example.com`;

  beforeAll(async () => {
    record = await startCustomerRecord();
    const c = emailContact({ sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: address, namespace: '' }, senderDisplayName: 'Erin Example' });
    await record.service.projection.onContact(c);
    customerId = (await record.service.store.findConversation(c.conversationId))!.customerId;
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

  it('downloads the export and erases the customer from the page', async () => {
    const page = await (await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 640 } })).newPage();
    await page.goto(`${h.console.url}/privacy.html`);
    await page.locator('#sign-in-id').fill(h.ids.privacy);
    await page.locator('#sign-in-password').fill(PASSWORD);
    await page.locator('#sign-in-form button[type=submit]').click();
    await page.locator('#app').waitFor({ state: 'visible' });
    await page.locator('#customer-id').fill(customerId);
    await page.locator('#reason').fill(REQUEST);

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
