import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { ContactReceived, ConversationEvent, IdentityKind, OutboundKind } from '#libs/proto';
import type { ServiceContext } from '#libs/service';
import { recordTopics, testContext, uniqueId, waitFor } from '#libs/testing';
import { issueVisitorToken } from '../src/token';
import type { EventProducer } from '#libs/kafka';
import { dropChatCollections, outboundReady, publishOutbound, SECRET, startInstance, testProducer, Visitor, type Instance } from './helpers';

const METRICS_TOKEN = 'chat-metrics-token-0123456789-abcdefghij';

describe('chat service with two instances', () => {
  const prefix = uniqueId('chat').replace(/-/g, '_');
  let a: Instance;
  let b: Instance;
  let sim: ServiceContext;
  let routing: EventProducer;
  let recorder: Awaited<ReturnType<typeof recordTopics>>;
  const open: Visitor[] = [];
  const visitor = async (url: string, hello: Record<string, unknown> = {}) => {
    const v = await Visitor.start(url, hello);
    open.push(v);
    return v;
  };

  beforeAll(async () => {
    recorder = await recordTopics([topics.contactInbound.name, topics.conversationEvents.name]);
    [a, b] = await Promise.all([
      startInstance(prefix, { CHAT_MAX_FRAME_BYTES: '2048', CHAT_RATE_BURST: '10', CHAT_RATE_PER_SECOND: '2', METRICS_TOKEN }),
      startInstance(prefix, { CHAT_MAX_FRAME_BYTES: '2048', CHAT_RATE_BURST: '10', CHAT_RATE_PER_SECOND: '2' }),
    ]);
    sim = testContext('routing-sim');
    routing = await testProducer(sim);
    await outboundReady([a, b], routing);
  });

  afterAll(async () => {
    for (const v of open) v.close();
    await recorder?.close();
    await Promise.all([a?.ctx.stop(), b?.ctx.stop()]);
    await sim?.stop();
    await dropChatCollections(prefix);
  });

  it('serves health, metrics, the widget and the demo page on its HTTP port', async () => {
    const base = `http://127.0.0.1:${a.chat.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    // /metrics is on the visitors' port: only with the bearer token.
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect(await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text()).toContain('cc_chat_frames_total');
    expect((await fetch(`http://127.0.0.1:${b.chat.port}/metrics`)).status).toBe(404);
    const widget = await fetch(`${base}/widget.js`);
    expect(widget.headers.get('content-type')).toContain('javascript');
    const js = await widget.text();
    expect(js).not.toMatch(/innerHTML|insertAdjacentHTML|document\.write|eval\(/);
    const demo = await (await fetch(`${base}/`)).text();
    expect(demo).toContain('<script src="/widget.js"');
    expect((await fetch(`${base}/nothing`)).status).toBe(404);
  });

  it('starts a session, acks only after Kafka, numbers messages and sends the SLA target as wait', async () => {
    const v = await visitor(a.url, { name: 'Ana Silva', email: 'Ana@Example.com' });
    expect(v.token).toMatch(/\./);
    v.send({ type: 'message', clientMessageId: 'm1', text: 'Hello, my order is late' });
    v.send({ type: 'message', clientMessageId: 'm2', text: 'Order 1234' });
    const ack1 = await v.next((f) => f.type === 'ack' && f.clientMessageId === 'm1');
    const ack2 = await v.next((f) => f.type === 'ack' && f.clientMessageId === 'm2');
    expect(ack1.seq).toBe(1);
    // Other services on the shared broker (routing) may number entries in between.
    expect(ack2.seq).toBeGreaterThan(ack1.seq);
    const wait = await v.next((f) => f.type === 'wait');
    expect(wait).toMatchObject({ estimatedWaitMs: 60_000, source: 'target', position: null });

    const rec = await recorder.waitFor((r) => r.headers.ce_id === `chat:${tokenVisitor(v.token!)}:m1`);
    // The ack came after the record was on the broker, so it is already recorded or about to be.
    const contact = ContactReceived.decode(rec.message.value!);
    expect(contact).toMatchObject({
      conversationId: v.conversationId,
      text: 'Hello, my order is late',
      newConversation: true,
      senderDisplayName: 'Ana Silva',
      externalId: '1',
    });
    expect(contact.sender).toMatchObject({ kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR });
    // A typed address is a claim, never an identity hint: anybody can type anybody's address.
    expect(contact.identityHints).toEqual([]);
    expect(contact.claimedIdentities).toEqual([{ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'ana@example.com', namespace: '' }]);
    expect(rec.message.key?.toString()).toBe(v.conversationId);
    const second = ContactReceived.decode((await recorder.waitFor((r) => r.headers.ce_id === `chat:${tokenVisitor(v.token!)}:m2`)).message.value!);
    expect(second.newConversation).toBe(false);
  });

  it('delivers replies, typing, agent joined, queue position, end and survey whichever instance holds the socket', async () => {
    const onA = await visitor(a.url);
    const onB = await visitor(b.url);
    for (const v of [onA, onB]) {
      v.send({ type: 'message', clientMessageId: 'hi', text: 'hi' });
      await v.next((f) => f.type === 'ack');
    }
    const conv = onB.conversationId!;
    await publishOutbound(routing, { conversationId: conv, kind: OutboundKind.OUTBOUND_KIND_STATUS_UPDATE, queuePosition: 3, estimatedWaitMs: 90_000 });
    await publishOutbound(routing, { conversationId: conv, kind: OutboundKind.OUTBOUND_KIND_AGENT_JOINED, text: 'Maria joined the chat.' });
    await publishOutbound(routing, { conversationId: conv, kind: OutboundKind.OUTBOUND_KIND_TYPING });
    await publishOutbound(routing, { conversationId: conv, kind: OutboundKind.OUTBOUND_KIND_REPLY, text: '<b>Hi</b> & welcome', agentId: 'agent-1' });
    await publishOutbound(routing, {
      conversationId: conv,
      kind: OutboundKind.OUTBOUND_KIND_STATUS_UPDATE,
      text: 'Transferring you to a specialist.',
      channelMetadata: { event: 'transfer' },
    });
    await publishOutbound(routing, { conversationId: conv, kind: OutboundKind.OUTBOUND_KIND_CONVERSATION_ENDED });
    await publishOutbound(routing, {
      conversationId: conv,
      kind: OutboundKind.OUTBOUND_KIND_SURVEY,
      text: 'How did we do?',
      channelMetadata: { 'survey-agent': 'ana', 'survey-queue': 'tier1/general/chat' },
    });
    await onB.next((f) => f.type === 'entry' && f.kind === 'survey');
    await onB.next((f) => f.type === 'wait' && f.source === 'routing' && f.position === 3 && f.estimatedWaitMs === 90_000);
    expect(onB.frames.some((f) => f.type === 'typing')).toBe(true);
    // Only what this test sent: a routing service on the shared broker may add its own entries.
    const ours = new Set(['Maria joined the chat.', '<b>Hi</b> & welcome', 'Transferring you to a specialist.', 'The chat has ended.', 'How did we do?']);
    const entries = onB.entries().filter((e) => ours.has(e.text));
    expect(entries.map((e) => e.kind)).toEqual(['agent-joined', 'message', 'transfer', 'ended', 'survey']);
    expect(entries[1]).toMatchObject({ from: 'agent', text: '<b>Hi</b> & welcome' });
    const seqs = entries.map((e) => e.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    expect(seqs[0]).toBeGreaterThan(1);
    // Nothing for B's conversation reached the visitor on the other instance.
    const seenByA = JSON.stringify(onA.frames);
    for (const text of ['Maria', '&lt;b&gt;', '<b>Hi</b>', 'How did we do', '90000', conv]) expect(seenByA).not.toContain(text);

    onB.send({ type: 'survey-answer', score: 5, comment: 'quick and kind' });
    await onB.next((f) => f.type === 'survey-ack');
    const rec = await recorder.waitFor((r) => r.topic === topics.conversationEvents.name && r.headers.ce_id === `chat-survey:${conv}`);
    const event = ConversationEvent.decode(rec.message.value!);
    expect(event.step).toEqual({
      $case: 'surveyAnswered',
      surveyAnswered: { question: 'How did we do?', score: 5, comment: 'quick and kind', agentId: 'ana', queue: 'tier1/general/chat' },
    });
  });

  it('resumes after a dropped connection from the last number seen, on the other instance, without loss or repeats', async () => {
    const v = await visitor(a.url);
    v.send({ type: 'message', clientMessageId: 'r1', text: 'first' });
    const ack = await v.next((f) => f.type === 'ack');
    await publishOutbound(routing, { conversationId: v.conversationId!, text: 'reply one' });
    const seen = await v.next((f) => f.type === 'entry' && f.text === 'reply one');
    v.close();
    // While the visitor is away, two more replies arrive.
    await publishOutbound(routing, { conversationId: v.conversationId!, text: 'reply two' });
    await publishOutbound(routing, { conversationId: v.conversationId!, text: 'reply three' });
    await waitFor(async () => (await a.chat.store.entriesAfter(v.conversationId!, seen.seq)).length === 2, 20_000, 'replies stored');
    const back = await visitor(b.url, { token: v.token, lastSeq: seen.seq });
    expect(back.frames[0]).toMatchObject({ type: 'welcome', resumed: true, conversationId: v.conversationId });
    await back.next((f) => f.type === 'entry' && f.text === 'reply three');
    expect(
      back
        .entries()
        .filter((e) => e.from === 'agent')
        .map((e) => e.text),
    ).toEqual(['reply two', 'reply three']);
    expect(back.entries().every((e) => e.seq > seen.seq)).toBe(true);
    // From zero (a page reload), the whole conversation in order, the visitor's message included.
    const reload = await visitor(b.url, { token: v.token, lastSeq: 0 });
    await reload.next((f) => f.type === 'entry' && f.text === 'reply three');
    const mine = reload.entries().filter((e) => e.text === 'first' || e.text.startsWith('reply '));
    expect(mine.map((e) => e.text)).toEqual(['first', 'reply one', 'reply two', 'reply three']);
    expect(mine[0]!.seq).toBe(ack.seq);
    expect(mine[1]!.seq).toBe(seen.seq);
    const seqs = reload.entries().map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
  });

  it('keeps order and numbering for a burst of messages', async () => {
    const v = await visitor(a.url);
    for (let i = 1; i <= 8; i++) v.send({ type: 'message', clientMessageId: `b${i}`, text: `burst ${i}` });
    await waitFor(() => v.frames.filter((f) => f.type === 'ack').length === 8, 20_000, 'eight acks');
    const acks = v.frames.filter((f) => f.type === 'ack');
    expect(acks.map((f) => f.clientMessageId)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => `b${i}`));
    const numbers = acks.map((f) => f.seq as number);
    expect(numbers[0]).toBe(1);
    expect(numbers.every((n, i) => i === 0 || n > numbers[i - 1]!)).toBe(true);
    const visitorId = tokenVisitor(v.token!);
    await waitFor(() => recorder.records.filter((r) => r.headers.ce_id?.startsWith(`chat:${visitorId}:b`)).length === 8, 20_000, 'eight records');
    const inKafka = recorder.records
      .filter((r) => r.headers.ce_id?.startsWith(`chat:${visitorId}:b`))
      .map((r) => ContactReceived.decode(r.message.value!).text);
    expect(inKafka).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => `burst ${i}`));
  });

  it('numbers messages sent at the same time through both instances 1..N, each number exactly once', async () => {
    const first = await visitor(a.url);
    first.send({ type: 'message', clientMessageId: 'open', text: 'opening' });
    await first.next((f) => f.type === 'ack');
    const conv = first.conversationId!;
    // The same visitor in six tabs, three on each instance, all sending at once, while replies
    // arrive that both instances store.
    const others = await Promise.all([b.url, a.url, b.url, a.url, b.url].map((url) => visitor(url, { token: first.token, lastSeq: 0 })));
    const tabs = [first, ...others];
    const perTab = 8;
    tabs.forEach((v, t) => {
      for (let i = 0; i < perTab; i++) v.send({ type: 'message', clientMessageId: `t${t}m${i}`, text: `tab ${t} message ${i}` });
    });
    const replies = ['reply A', 'reply B', 'reply C', 'reply D'];
    await Promise.all(replies.map((text) => publishOutbound(routing, { conversationId: conv, text })));
    const acks = await Promise.all(
      tabs.map((v, t) =>
        waitFor(
          () => {
            const mine = v.frames.filter((f) => f.type === 'ack' && String(f.clientMessageId).startsWith(`t${t}m`));
            return mine.length === perTab && mine;
          },
          40_000,
          `tab ${t}'s acks`,
        ),
      ),
    );
    const ackedNumbers = [1, ...acks.flat().map((f) => f.seq as number)];
    expect(new Set(ackedNumbers).size).toBe(1 + tabs.length * perTab);

    const stored = await waitFor(
      async () => {
        const entries = await b.chat.store.entriesAfter(conv, 0);
        return replies.every((r) => entries.some((e) => e.text === r)) && entries.length >= ackedNumbers.length + replies.length && entries;
      },
      30_000,
      'every message and reply stored',
    );
    // Every number from 1 to the last is given once (a routing service on the broker may add entries).
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1));
    expect(stored.filter((e) => replies.includes(e.text))).toHaveLength(replies.length);
    for (const n of ackedNumbers) expect(stored.find((e) => e.seq === n)?.from).toBe('visitor');
    expect(await a.chat.store.lastNumber(conv)).toBe(stored.length);
    // Exactly one message opened the conversation.
    await waitFor(
      () => recorder.records.filter((r) => r.topic === topics.contactInbound.name && r.message.key?.toString() === conv).length >= ackedNumbers.length,
      20_000,
      'every message on Kafka',
    );
    const opening = recorder.records.filter(
      (r) => r.topic === topics.contactInbound.name && r.message.key?.toString() === conv && ContactReceived.decode(r.message.value!).newConversation,
    );
    expect(new Set(opening.map((r) => r.headers.ce_id))).toEqual(new Set([`chat:${tokenVisitor(first.token!)}:open`]));
    for (const v of tabs) v.close();
  });

  it('a resend of an acked message is acked again with the same number and not doubled', async () => {
    const v = await visitor(a.url);
    v.send({ type: 'message', clientMessageId: 'same', text: 'once' });
    const first = await v.next((f) => f.type === 'ack');
    v.send({ type: 'message', clientMessageId: 'same', text: 'once' });
    await waitFor(() => v.frames.filter((f) => f.type === 'ack').length === 2, 20_000, 'second ack');
    expect(v.frames.filter((f) => f.type === 'ack').map((f) => f.seq)).toEqual([first.seq, first.seq]);
    const ids = recorder.records
      .filter((r) => r.topic === topics.contactInbound.name && r.message.key?.toString() === v.conversationId)
      .map((r) => r.headers.ce_id);
    expect(new Set(ids).size).toBe(1);
    expect((await a.chat.store.entriesAfter(v.conversationId!, 0)).filter((d) => d.from === 'visitor').length).toBe(1);
  });

  it('closes a connection with 1009 for an oversized frame and 1008 when over the rate limit', async () => {
    const big = await visitor(a.url);
    big.send({ type: 'message', clientMessageId: 'big', text: 'x'.repeat(3000) });
    expect((await big.closedWith()).code).toBe(1009);

    const flood = await visitor(a.url);
    for (let i = 0; i < 30; i++) flood.send({ type: 'ping' });
    expect(await flood.closedWith()).toEqual({ code: 1008, reason: 'rate limit exceeded' });

    const bad = await visitor(a.url);
    bad.send('not json');
    bad.send({ type: 'message', clientMessageId: 'no spaces allowed', text: 'hi' });
    await waitFor(() => bad.frames.filter((f) => f.type === 'error' && f.code === 'invalid-frame').length === 2, 10_000, 'two errors');
    expect(bad.closed).toBeUndefined();
  });

  it('refuses bad, forged and expired tokens and other origins', async () => {
    for (const token of [
      'garbage',
      `${issueVisitorToken('another-secret-0123456789-abcdefghijk', { visitorId: 'v_abcdefgh12', conversationId: 'c_abcdefgh12', reference: 'ABCDEF' }, 60)}`,
      issueVisitorToken(SECRET, { visitorId: 'v_abcdefgh12', conversationId: 'c_abcdefgh12', reference: 'ABCDEF' }, 60, Date.now() - 3_600_000),
    ]) {
      const v = await Visitor.open(a.url);
      open.push(v);
      v.send({ type: 'hello', token });
      const closed = await v.closedWith();
      expect(closed.code).toBe(1008);
      expect(closed.reason).toMatch(/invalid token/);
      expect(v.frames).toEqual([]);
    }
    await expect(Visitor.open(a.url, 'http://evil.example')).rejects.toThrow(/403/);
    // The service's own demo page is same-origin and allowed.
    const own = await Visitor.open(a.url, `http://127.0.0.1:${a.chat.port}`);
    own.close();
  });

  it("never lets one visitor see another visitor's conversation, even with a swapped token body", async () => {
    const alice = await visitor(a.url);
    const bob = await visitor(a.url);
    // A token whose body names Alice's conversation but carries Bob's signature is refused.
    const [aliceBody] = alice.token!.split('.');
    const [, bobSig] = bob.token!.split('.');
    const forger = await Visitor.open(a.url);
    open.push(forger);
    forger.send({ type: 'hello', token: `${aliceBody}.${bobSig}` });
    expect((await forger.closedWith()).code).toBe(1008);
    // Even a correctly signed token cannot attach another visitor to Alice's conversation.
    alice.send({ type: 'message', clientMessageId: 'a1', text: 'alice here' });
    await alice.next((f) => f.type === 'ack');
    const intruder = await Visitor.open(a.url);
    open.push(intruder);
    intruder.send({
      type: 'hello',
      token: issueVisitorToken(SECRET, { visitorId: 'v_intruder123', conversationId: alice.conversationId!, reference: 'ABCDEF' }, 60),
    });
    expect(await intruder.closedWith()).toEqual({ code: 1008, reason: 'invalid token: conversation belongs to another visitor' });
    expect(intruder.frames).toEqual([]);

    await publishOutbound(routing, { conversationId: alice.conversationId!, text: 'for alice only' });
    await alice.next((f) => f.type === 'entry' && f.text === 'for alice only');
    bob.send({ type: 'message', clientMessageId: 'x', text: 'hi' });
    await bob.next((f) => f.type === 'ack');
    const bobResume = await visitor(b.url, { token: bob.token, lastSeq: 0 });
    await bobResume.next((f) => f.type === 'entry' && f.text === 'hi');
    for (const seen of [bob.frames, bobResume.frames]) {
      expect(JSON.stringify(seen)).not.toContain('alice');
      expect(JSON.stringify(seen)).not.toContain(alice.conversationId);
    }
  });
});

function tokenVisitor(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { v: string }).v;
}
