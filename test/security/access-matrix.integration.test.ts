// Every cell of the declared access matrix (access-matrix.ts), against the real services: each
// gRPC method of customer-record and routing called with each caller's real token, each API
// route of the desk and the ops console called in each role's real session. Refused means
// UNAUTHENTICATED / PERMISSION_DENIED or 401 / 403; anything else (an answer, or a complaint
// about the empty request) means the caller got past the access check. Allowed reads of a
// customer must then be in the audit log.
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Audience, Caller } from '#libs/auth';
import { loadConfig } from '#libs/config';
import { topics } from '#libs/kafka';
import {
  Channel,
  ContactKind,
  ContactReceived,
  CustomerRecordServiceService,
  IdentityKind,
  ListAuditResponse,
  RegisterAgentRequest,
  RoutingServiceService,
  Tier,
} from '#libs/proto';
import { connectKafka, type ServiceContext, type ServiceKafka } from '#libs/service';
import { StaffRoster } from '#libs/staff';
import { dropDatabase, KAFKA_BROKERS, MONGODB_URI, testAuthEnv, testContext, testToken, uniqueId, waitFor } from '#libs/testing';
import { agentDeskConfig, startAgentDesk } from '../../services/agent-desk/src/service';
import { loadOpsConsoleConfig } from '../../services/ops-console/src/config';
import { startOpsConsole } from '../../services/ops-console/src/service';
import { startRouting } from '../../services/routing/src/service';
import { callerId, offered, startHarness, type Harness } from '../../services/customer-record/test/harness';
import { configFor } from '../../services/routing/test/helpers';
import {
  AGENT_DESK,
  CUSTOMER_RECORD,
  GRPC_CALLERS,
  OPS_CONSOLE,
  ROUTING,
  STAFF_CALLERS,
  type GrpcCaller,
  type GrpcEntry,
  type HttpEntry,
  type StaffCaller,
} from './access-matrix';

const PASSWORD = 'correct horse battery staple';
const staffDb = uniqueId('matrix_staff').replace(/-/g, '_');
const routingDb = uniqueId('matrix_routing').replace(/-/g, '_');
const contexts: ServiceContext[] = [];
let record: Harness;
let routingPort: number;
let kafka: ServiceKafka;
let desk: { base: string; routes: string[] };
let opsConsole: { base: string; routes: string[] };
const staffIds = Object.fromEntries(STAFF_CALLERS.map((role) => [role, callerId(role)])) as Record<StaffCaller, string>;

function callerOf(who: GrpcCaller): Caller {
  if (who.startsWith('service:')) return { id: who.slice('service:'.length), role: 'service' };
  return { id: callerId(who as Caller['role']), role: who as Caller['role'] };
}

/** Each method of a generated service definition by its proto name, with its path and streaming. */
function methodsOf(definition: Record<string, { path: string; responseStream: boolean }>) {
  return Object.values(definition).map((m) => ({ name: m.path.split('/').pop()!, path: m.path, stream: m.responseStream }));
}

/**
 * The request a method is called with: empty, except where an empty one is refused for what it
 * asks rather than for who asks (people register only themselves, at their own tier).
 */
function sampleRequest(method: string, caller: Caller): Buffer {
  if (method !== 'RegisterAgent') return Buffer.alloc(0);
  const tier = caller.role === 'expert' ? Tier.TIER_EXPERT : Tier.TIER_FRONT_OFFICE;
  return Buffer.from(RegisterAgentRequest.encode(RegisterAgentRequest.fromPartial({ agentId: caller.id, name: caller.id, tier })).finish());
}

/** Calls a method with its sample request and the caller's token; the status it ends with (OK for an answer or an open stream). */
async function grpcStatus(port: number, audience: Audience, method: { name: string; path: string; stream: boolean }, who: GrpcCaller): Promise<status> {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${await testToken(callerOf(who), audience)}`);
  const same = (b: Buffer) => b;
  try {
    return await new Promise<status>((resolve) => {
      if (!method.stream) {
        client.makeUnaryRequest(method.path, same, same, sampleRequest(method.name, callerOf(who)), metadata, (err: ServiceError | null) =>
          resolve(err ? err.code : status.OK),
        );
        return;
      }
      const call = client.makeServerStreamRequest(method.path, same, same, Buffer.alloc(0), metadata);
      // A stream refused ends at once; one let through stays open (or ends with another status).
      const open = setTimeout(() => resolve(status.OK), 1500);
      call.on('data', () => undefined);
      call.on('error', (err: ServiceError) => {
        clearTimeout(open);
        resolve(err.code);
      });
      call.on('end', () => resolve(status.OK));
    });
  } finally {
    client.close();
  }
}

const refusedStatus = (code: status) => code === status.UNAUTHENTICATED || code === status.PERMISSION_DENIED;

function expectedCells(entries: Record<string, GrpcEntry>) {
  return Object.fromEntries(
    Object.entries(entries).map(([name, e]) => [name, Object.fromEntries(GRPC_CALLERS.map((c) => [c, e.allowed.includes(c) ? 'allowed' : 'refused']))]),
  );
}

async function observedCells(port: number, audience: Audience, methods: ReturnType<typeof methodsOf>) {
  const cells: Record<string, Record<string, string>> = {};
  for (const m of methods) {
    cells[m.name] = {};
    for (const who of GRPC_CALLERS) {
      const code = await grpcStatus(port, audience, m, who);
      cells[m.name]![who] = refusedStatus(code) ? 'refused' : 'allowed';
    }
  }
  return cells;
}

interface SignedIn {
  cookie: string;
  csrf: string;
}

/** Signs each staff role in; a role the application does not sign in gets no session. */
async function signInAll(base: string, ids: Record<StaffCaller, string>, csrfField: 'csrf' | 'csrfToken'): Promise<Partial<Record<StaffCaller, SignedIn>>> {
  const sessions: Partial<Record<StaffCaller, SignedIn>> = {};
  for (const role of STAFF_CALLERS) {
    const res = await fetch(`${base}/api/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ id: ids[role], password: PASSWORD }),
    });
    const body = (await res.json()) as Record<string, string>;
    if (res.status === 200) sessions[role] = { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: body[csrfField]! };
  }
  return sessions;
}

/** The route with sample path parameters, called in the session; its HTTP status. */
async function httpStatus(base: string, route: string, session: SignedIn | undefined): Promise<number> {
  const [method, pattern] = route.split(' ') as [string, string];
  const path = pattern.replace(':id', 'conv-matrix').replace(':partition', '0').replace(':offset', '0');
  const abort = new AbortController();
  const headers: Record<string, string> = { origin: base, ...(session ? { cookie: session.cookie, 'x-csrf-token': session.csrf } : {}) };
  const res = await fetch(`${base}${path}`, {
    method,
    headers: method === 'POST' ? { ...headers, 'content-type': 'application/json' } : headers,
    body: method === 'POST' ? '{}' : undefined,
    signal: abort.signal,
  });
  // The status is all that counts: an event stream is not read.
  abort.abort();
  return res.status;
}

async function httpCells(app: { base: string; routes: string[] }, entries: Record<string, HttpEntry>, sessions: Partial<Record<StaffCaller, SignedIn>>) {
  const observed: Record<string, unknown> = {};
  const expected: Record<string, unknown> = {};
  // Sign-out ends the session the other routes need: it goes last.
  const ordered = [...app.routes].sort((a, b) => Number(a.endsWith('/sign-out')) - Number(b.endsWith('/sign-out')));
  for (const route of ordered) {
    const entry = entries[route];
    if (entry === 'public' || entry === undefined) {
      observed[route] = entry ?? 'no entry in the matrix';
      expected[route] = entry ?? 'an entry';
      continue;
    }
    observed[route] = {};
    expected[route] = {};
    for (const role of STAFF_CALLERS) {
      const code = await httpStatus(app.base, route, sessions[role]);
      (observed[route] as Record<string, string>)[role] = code === 401 || code === 403 ? 'refused' : 'allowed';
      (expected[route] as Record<string, string>)[role] = entry.includes(role) ? 'allowed' : 'refused';
    }
  }
  return { observed, expected };
}

beforeAll(async () => {
  const infra = testContext('matrix');
  contexts.push(infra);
  kafka = await connectKafka(infra, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
  record = await startHarness({ env: { ACCESS_CATCH_UP_MS: '0' } });
  const routingCtx = testContext('matrix-routing');
  contexts.push(routingCtx);
  routingPort = (await startRouting(routingCtx, configFor(routingDb, uniqueId('matrix-routing')))).grpcPort;

  const mongo = await MongoClient.connect(MONGODB_URI);
  try {
    const roster = new StaffRoster(mongo.db(staffDb));
    for (const role of STAFF_CALLERS) await roster.upsert({ id: staffIds[role], name: role, role }, PASSWORD);
  } finally {
    await mongo.close();
  }
  const deskCtx = testContext('matrix-desk');
  contexts.push(deskCtx);
  const unreachable = '127.0.0.1:9';
  const runningDesk = await startAgentDesk(
    deskCtx,
    loadConfig(agentDeskConfig, {
      MONGODB_URI,
      KAFKA_BROKERS: KAFKA_BROKERS.join(','),
      HTTP_PORT: '0',
      ...testAuthEnv('agent-desk'),
      AGENT_DESK_SESSION_SECRET: 'matrix-desk-session-secret-0123456789',
      STAFF_DB: staffDb,
      ROUTING_GRPC_ADDR: unreachable,
      CUSTOMER_RECORD_GRPC_ADDR: unreachable,
    }),
  );
  desk = { base: `http://127.0.0.1:${runningDesk.port}`, routes: runningDesk.apiRoutes };
  const consoleCtx = testContext('matrix-console');
  contexts.push(consoleCtx);
  const runningConsole = await startOpsConsole(
    consoleCtx,
    loadOpsConsoleConfig({
      KAFKA_BROKERS: KAFKA_BROKERS.join(','),
      MONGODB_URI,
      MONGODB_DATABASE: uniqueId('matrix_console').replace(/-/g, '_'),
      STAFF_DB: staffDb,
      HTTP_PORT: '0',
      OPS_CONSOLE_SESSION_SECRET: 'matrix-console-session-secret-0123456789',
    }),
    { queueStats: null },
  );
  opsConsole = { base: `http://127.0.0.1:${runningConsole.port}`, routes: runningConsole.apiRoutes };
}, 180_000);

afterAll(async () => {
  for (const ctx of contexts.reverse()) await ctx.stop();
  await record?.stop();
  if (record) await dropDatabase(record.database);
  await dropDatabase(routingDb);
  await dropDatabase(staffDb);
});

describe('the access matrix', () => {
  it('has an entry for every gRPC method, and each caller gets exactly what it declares', { timeout: 300_000 }, async () => {
    const recordMethods = methodsOf(CustomerRecordServiceService);
    const routingMethods = methodsOf(RoutingServiceService);
    expect(recordMethods.map((m) => m.name).sort()).toEqual(Object.keys(CUSTOMER_RECORD).sort());
    expect(routingMethods.map((m) => m.name).sort()).toEqual(Object.keys(ROUTING).sort());
    expect(await observedCells(record.service.grpcPort, 'customer-record', recordMethods)).toEqual(expectedCells(CUSTOMER_RECORD));
    expect(await observedCells(routingPort, 'routing', routingMethods)).toEqual(expectedCells(ROUTING));
  });

  it('audits every read of a customer it lets through, with who read it', { timeout: 120_000 }, async () => {
    const address = `${uniqueId('matrix')}@example.com`;
    const contact = ContactReceived.fromPartial({
      contactId: uniqueId('contact'),
      conversationId: uniqueId('conv'),
      channel: Channel.CHANNEL_EMAIL,
      kind: ContactKind.CONTACT_KIND_MESSAGE,
      receivedAt: new Date(),
      sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: address },
      newConversation: true,
      subject: 'Invoice',
      text: 'my invoice is wrong',
    });
    await kafka.producer.publish(topics.contactInbound, contact.conversationId, contact);
    const customerId = await waitFor(
      async () => (await record.service.store.findCustomerId({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: address, namespace: '' })) ?? undefined,
      45_000,
      'the customer projected',
    );
    await waitFor(
      () =>
        record.call('getCustomer', { customerId, reason: 'matrix: waiting for the projection' }).then(
          () => true,
          () => false,
        ),
      45_000,
      'the customer readable',
    );
    for (const who of ['agent', 'expert']) await record.service.access.onConversationEvent(offered(contact.conversationId, callerId(who as 'agent')));
    const reads: [GrpcCaller, string][] = [];
    for (const [name, entry] of Object.entries(CUSTOMER_RECORD)) {
      if (!entry.audited) continue;
      for (const who of entry.allowed) {
        const caller = callerOf(who);
        const reason = ['supervisor', 'ops', 'privacy'].includes(caller.role) ? 'matrix: checking the audit' : '';
        const request =
          name === 'ResolveCustomer'
            ? { identity: contact.sender, reason }
            : name === 'FindCustomers'
              ? { email: address, reason }
              : { customerId, conversationId: contact.conversationId, reason };
        await record.call(`${name[0]!.toLowerCase()}${name.slice(1)}`, request, null, await testToken(caller, 'customer-record'));
        reads.push([who, name]);
      }
    }
    const audit = await record.call<object, ListAuditResponse>('listAudit', { customerId, pageSize: 200 });
    const seen = new Set(audit.entries.map((e) => `${e.actorId} ${e.action}`));
    expect(reads.filter(([who, name]) => !seen.has(`${callerOf(who).id} ${name}`))).toEqual([]);
  });

  it('has an entry for every desk route, and each role gets exactly what it declares', { timeout: 120_000 }, async () => {
    const sessions = await signInAll(desk.base, staffIds, 'csrf');
    expect(Object.keys(sessions).sort()).toEqual(['agent', 'expert', 'supervisor']);
    const { observed, expected } = await httpCells(desk, AGENT_DESK, sessions);
    expect(observed).toEqual(expected);
    expect(Object.keys(AGENT_DESK).filter((r) => !desk.routes.includes(r))).toEqual([]);
  });

  it('has an entry for every ops console route, and each role gets exactly what it declares', { timeout: 120_000 }, async () => {
    const sessions = await signInAll(opsConsole.base, staffIds, 'csrfToken');
    expect(Object.keys(sessions).sort()).toEqual(['ops', 'supervisor']);
    const { observed, expected } = await httpCells(opsConsole, OPS_CONSOLE, sessions);
    expect(observed).toEqual(expected);
    expect(Object.keys(OPS_CONSOLE).filter((r) => !opsConsole.routes.includes(r))).toEqual([]);
  });
});
