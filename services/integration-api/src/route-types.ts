// What a route of the API is given and answers; the edge (http.ts) authenticates, limits,
// audits and turns failures into problems around it.
import type { ApiKeyRecord } from './key-store';
import type { Scope } from './keys';

export interface ApiRequest {
  key: ApiKeyRecord;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  /** The JSON body, read within the size limit (413, 415 or 400 otherwise). */
  body(): Promise<unknown>;
}

export interface ApiAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** What the audit entry names besides the route and status. */
  audit?: { customerId?: string; contactId?: string; conversationId?: string; reason?: string; webhookId?: string };
}

export interface ApiRoute {
  method: 'GET' | 'POST' | 'DELETE';
  /** As openapi.json writes the path, with `{name}` parameters. */
  path: string;
  scope: Scope;
  handle(request: ApiRequest): Promise<ApiAnswer>;
}
