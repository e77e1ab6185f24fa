// The OpenAPI document kept in the repository is a valid OpenAPI 3.1 document, and names every
// route the service answers, with the scope each needs.
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import type { Backends } from '../src/backends';
import { contactRoute } from '../src/contacts';
import type { ConversationStore } from '../src/conversations';
import type { EventProducer } from '#libs/kafka';
import { readRoutes } from '../src/reads';
import type { ConversationBackend } from '../src/conversation-backends';
import { conversationActionRoutes } from '../src/conversation-actions';
import { conversationReadRoutes } from '../src/conversation-routes';
import { conversationStartRoute } from '../src/conversation-start';
import { OPENAPI_FILE } from '../src/service';
import { webhookRoutes, type WebhookRouteDeps } from '../src/webhooks/routes';

const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as { paths: Record<string, Record<string, { description?: string; security?: unknown[] }>> };

describe('openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes exactly the routes the service answers, each with the scope it needs', () => {
    const conversations = {} as ConversationBackend;
    const routes = [
      contactRoute({ conversations: {} as ConversationStore, producer: {} as EventProducer }),
      ...readRoutes({} as Backends),
      ...conversationReadRoutes({ conversations, customers: {} as Backends }),
      ...conversationActionRoutes({ conversations, claims: { claim: async () => 'first' as const } }),
      conversationStartRoute({ conversations, customers: {} as Backends, claims: { claim: async () => 'first' as const }, startsPerHour: 1 }),
      ...webhookRoutes({} as WebhookRouteDeps),
    ];
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual([...routes.map((r) => `${r.method} ${r.path}`), 'GET /openapi.json'].sort());
    for (const r of routes) expect(doc.paths[r.path]![r.method.toLowerCase()]!.description).toContain(`\`${r.scope}\``);
  });
});
