// The live socket of an agent whose session ends because the person was disabled: the socket
// closes and routing is told the agent is offline. Real store, HTTP and WebSocket; routing is
// a recorder of the calls the desk makes, since only the desk's side is under test here.
import { EventEmitter } from 'node:events';
import http from 'node:http';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createLogger } from '#libs/observability';
import { Presence } from '#libs/proto';
import { SessionStore, StaffRoster } from '#libs/staff';
import { dropDatabase, MONGODB_URI, uniqueId, waitFor } from '#libs/testing';
import type { Backends, Caller } from '../src/backends';
import { createLive } from '../src/live';

const database = uniqueId('desk_live').replace(/-/g, '_');
let client: MongoClient;
let server: http.Server;
let live: ReturnType<typeof createLive>;
let roster: StaffRoster;
let sessions: SessionStore;
let base: string;
const presenceCalls: { caller: Caller; presence: Presence }[] = [];

beforeAll(async () => {
  client = await new MongoClient(MONGODB_URI).connect();
  roster = new StaffRoster(client.db(database));
  sessions = new SessionStore(client.db(database), { app: 'agent-desk', secret: 'x'.repeat(32) });
  const routing = {
    registerAgent: async () => ({}),
    watch: async () => Object.assign(new EventEmitter(), { cancel: () => undefined }),
    setPresence: async (caller: Caller, presence: Presence) => {
      presenceCalls.push({ caller, presence });
      return {};
    },
  } as unknown as Backends;
  live = createLive({
    sessions,
    roster,
    backends: routing,
    logger: createLogger('agent-desk', 'silent'),
    supervisorRefreshMs: 60_000,
    sessionCheckMs: 300,
    watchPollMs: 1000,
  });
  server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => live.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  live?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await client?.close();
  await dropDatabase(database);
});

describe("the desk's live socket when the person changes", () => {
  it("closes an agent's socket when they are disabled, and sets them offline in routing", async () => {
    await roster.upsert({ id: 'ana', name: 'Ana', role: 'agent' }, 'correct horse battery');
    const session = await sessions.create((await roster.get('ana'))!);
    const ws = new WebSocket(`${base.replace('http', 'ws')}/live`, { headers: { origin: base, cookie: `${sessions.cookieName}=${session.id}` } });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, 700));
    expect(presenceCalls).toEqual([]);
    await roster.disable('ana');
    expect(await closed).toBe(4001);
    await waitFor(() => presenceCalls.length > 0, 5000, 'routing told the agent is offline');
    expect(presenceCalls).toEqual([{ caller: { id: 'ana', role: 'agent' }, presence: Presence.PRESENCE_OFFLINE }]);
  });
});
