// Caps on chat sockets and new conversations, per client address and per instance, with real
// WebSockets against a running chat service. Clients behind a trusted load balancer are told
// apart by X-Forwarded-For; a forged header from an untrusted peer does not escape its cap.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { uniqueId, waitFor } from '#libs/testing';
import { ALLOWED_ORIGIN, dropChatCollections, startInstance, type Instance } from './helpers';

/** A raw visitor socket from one client address (as the balancer forwards it). */
class Client {
  readonly frames: Record<string, any>[] = [];
  closed?: { code: number; reason: string };
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.frames.push(JSON.parse(data.toString()) as Record<string, any>));
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    ws.on('error', () => undefined);
  }

  static async open(url: string, forwardedFor?: string): Promise<Client> {
    const ws = new WebSocket(url, { origin: ALLOWED_ORIGIN, headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
    return new Client(ws);
  }

  hello(token?: string): void {
    this.ws.send(JSON.stringify({ type: 'hello', ...(token ? { token } : {}) }));
  }

  next(type: string, timeoutMs = 15_000): Promise<Record<string, any>> {
    return waitFor(() => this.frames.find((f) => f.type === type), timeoutMs, `a ${type} frame`);
  }

  closedWith(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    return waitFor(() => this.closed, timeoutMs, 'the connection to close');
  }

  /** Still open a moment after it was opened (not closed by a cap). */
  async staysOpen(): Promise<boolean> {
    await new Promise((r) => setTimeout(r, 200));
    return this.closed === undefined && this.ws.readyState === WebSocket.OPEN;
  }
}

const prefix = uniqueId('chatcap').replace(/-/g, '_');
let proxied: Instance;
let direct: Instance;
const open: Client[] = [];
const client = async (url: string, forwardedFor?: string) => {
  const c = await Client.open(url, forwardedFor);
  open.push(c);
  return c;
};
const closeAll = async (instance: Instance) => {
  for (const c of open.splice(0)) c.ws.close();
  await waitFor(() => instance.chat.connections() === 0, 10_000, 'every socket to close');
};

/** Closes a socket and waits for the close handshake, so it no longer counts as open. */
const leave = async (c: Client) => {
  c.ws.close();
  await c.closedWith();
};

beforeAll(async () => {
  [proxied, direct] = await Promise.all([
    startInstance(prefix, {
      TRUSTED_PROXIES: '127.0.0.1,::1',
      CHAT_MAX_SOCKETS_PER_ADDRESS: '3',
      CHAT_MAX_SOCKETS: '5',
      CHAT_MAX_NEW_CONVERSATIONS_PER_ADDRESS: '2',
      CHAT_MAX_NEW_CONVERSATIONS: '4',
    }),
    startInstance(prefix, { CHAT_MAX_SOCKETS_PER_ADDRESS: '2', CHAT_MAX_NEW_CONVERSATIONS_PER_ADDRESS: '50' }),
  ]);
});

afterAll(async () => {
  for (const c of open) c.ws.terminate();
  await Promise.all([proxied?.ctx.stop(), direct?.ctx.stop()]);
  await dropChatCollections(prefix);
});

describe('chat admission', () => {
  it('caps open sockets per client address and per instance with 1013, and frees a place when one closes', async () => {
    const x = await Promise.all([1, 2, 3].map(() => client(proxied.url, '198.51.100.1')));
    for (const c of x) expect(await c.staysOpen()).toBe(true);
    const fourth = await client(proxied.url, '198.51.100.1');
    expect(await fourth.closedWith()).toEqual({ code: 1013, reason: 'too many open chats from this address; close one or try again later' });
    // Another visitor behind the same balancer is not affected.
    const y = await client(proxied.url, '198.51.100.2');
    expect(await y.staysOpen()).toBe(true);
    x[0]!.ws.close();
    await x[0]!.closedWith();
    await waitFor(
      async () => {
        const again = await client(proxied.url, '198.51.100.1');
        return again.staysOpen();
      },
      5000,
      'a place for the address again',
    );
    const fifth = await client(proxied.url, '198.51.100.3');
    expect(await fifth.staysOpen()).toBe(true);
    // Five sockets are open now: the instance takes no sixth from anyone.
    const sixth = await client(proxied.url, '198.51.100.4');
    expect(await sixth.closedWith()).toEqual({ code: 1013, reason: 'the chat is at capacity; try again later' });
    await closeAll(proxied);
  });

  it('caps new conversations per client address and per instance with 1013; a visitor resuming is not affected', async () => {
    const first = await client(proxied.url, '198.51.100.10');
    first.hello();
    const welcome = await first.next('welcome');
    first.ws.send(JSON.stringify({ type: 'message', clientMessageId: 'm1', text: 'Where is my parcel?' }));
    expect(await first.next('ack')).toMatchObject({ clientMessageId: 'm1', seq: 1 });
    const second = await client(proxied.url, '198.51.100.10');
    second.hello();
    await second.next('welcome');
    await leave(second);
    const third = await client(proxied.url, '198.51.100.10');
    third.hello();
    expect(await third.closedWith()).toEqual({ code: 1013, reason: 'too many new conversations from this address; try again later' });
    // The first visitor comes back on a new socket with their token: welcomed, not counted.
    await leave(first);
    const back = await client(proxied.url, '198.51.100.10');
    back.hello(welcome.token as string);
    expect(await back.next('welcome')).toMatchObject({ conversationId: welcome.conversationId, resumed: true });
    // Two more from another address reach the instance's four; a fifth from anyone is refused.
    for (let i = 0; i < 2; i++) {
      const other = await client(proxied.url, '198.51.100.11');
      other.hello();
      await other.next('welcome');
      await leave(other);
    }
    const late = await client(proxied.url, '198.51.100.12');
    late.hello();
    expect(await late.closedWith()).toEqual({ code: 1013, reason: 'the chat is taking no new conversations right now; try again in a minute' });
    await closeAll(proxied);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy: forged addresses share the cap', async () => {
    const a = await client(direct.url, '198.51.100.20');
    const b = await client(direct.url, '198.51.100.21');
    expect(await a.staysOpen()).toBe(true);
    expect(await b.staysOpen()).toBe(true);
    const c = await client(direct.url, '198.51.100.22');
    expect((await c.closedWith()).code).toBe(1013);
    await closeAll(direct);
  });
});
