// Starts the integration API in-process on an ephemeral port against the real broker and store,
// in a database of its own, with keys made as the key command makes them.
import type { ISocketFactory } from 'kafkajs';
import { loadConfig } from '#libs/config';
import type { ServiceContext } from '#libs/service';
import { dropDatabase, KAFKA_BROKERS, MONGODB_URI, testAuthEnv, testContext, uniqueId } from '#libs/testing';
import type { Backends } from '../src/backends';
import type { ConversationBackend } from '../src/conversation-backends';
import { integrationApiConfig } from '../src/config';
import type { ApiKeyStore } from '../src/key-store';
import type { Scope } from '../src/keys';
import { startIntegrationApi } from '../src/service';

export interface ApiHarness {
  ctx: ServiceContext;
  base: string;
  database: string;
  keys: ApiKeyStore;
  /** A new key for the application, as a supervisor makes one. */
  key(scopes: Scope[], ratePerMinute?: number, application?: string): Promise<{ id: string; key: string }>;
  call(path: string, init?: RequestInit & { key?: string }): Promise<Response>;
  stop(): Promise<void>;
}

export async function startApiHarness(
  options: { env?: Record<string, string>; backends?: Backends; conversations?: ConversationBackend; socketFactory?: ISocketFactory } = {},
): Promise<ApiHarness> {
  const database = uniqueId('api').replace(/-/g, '_');
  const ctx = testContext('integration-api');
  const config = loadConfig(integrationApiConfig, {
    KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    MONGODB_URI,
    MONGODB_DATABASE: database,
    HTTP_PORT: '0',
    ...testAuthEnv('integration-api'),
    // A group of its own: instances of other tests do not share its partitions.
    WEBHOOK_GROUP_ID: uniqueId('webhooks'),
    ...options.env,
  });
  const { port, keys } = await startIntegrationApi(ctx, config, {
    backends: options.backends,
    conversations: options.conversations,
    socketFactory: options.socketFactory,
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    ctx,
    base,
    database,
    keys,
    async key(scopes, ratePerMinute = 10_000, application = 'shop') {
      const { record, key } = await keys.create({ application, scopes, ratePerMinute, createdBy: 'sup-1' });
      return { id: record._id, key };
    },
    call(path, init = {}) {
      const { key, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (key) headers.set('authorization', `Bearer ${key}`);
      return fetch(`${base}${path}`, { ...rest, headers });
    },
    async stop() {
      await ctx.stop();
      await dropDatabase(database);
    },
  };
}

export function contactBody(threadId: string, text = 'Where is my parcel?') {
  return { threadId, customer: { id: 'cust-42', name: 'Kim', email: 'kim@example.org' }, subject: 'Order 1234', text };
}

export const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
