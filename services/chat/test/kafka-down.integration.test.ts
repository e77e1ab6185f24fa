import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { ContactReceived } from '#libs/proto';
import { cuttableSocketFactory, recordTopics, uniqueId, waitFor } from '#libs/testing';
import { dropChatCollections, startInstance, Visitor, type Instance } from './helpers';

describe('chat when Kafka is unreachable', () => {
  const prefix = uniqueId('chatdown').replace(/-/g, '_');
  const network = cuttableSocketFactory();
  let chat: Instance;
  let recorder: Awaited<ReturnType<typeof recordTopics>>;

  beforeAll(async () => {
    recorder = await recordTopics([topics.contactInbound.name]);
    chat = await startInstance(prefix, { CHAT_PUBLISH_TIMEOUT_MS: '1500' }, network.socketFactory);
  });

  afterAll(async () => {
    network.restore();
    await recorder?.close();
    await chat?.ctx.stop();
    await dropChatCollections(prefix);
  });

  it('does not ack, says not accepted, and a resend after reconnect is accepted once', async () => {
    const v = await Visitor.start(chat.url);
    v.send({ type: 'message', clientMessageId: 'before', text: 'before the outage' });
    await v.next((f) => f.type === 'ack');

    network.cut();
    v.send({ type: 'message', clientMessageId: 'during', text: 'during the outage' });
    const refused = await v.next((f) => f.type === 'error');
    expect(refused).toMatchObject({ code: 'not-accepted', clientMessageId: 'during' });
    expect(v.frames.some((f) => f.type === 'ack' && f.clientMessageId === 'during')).toBe(false);
    v.close();
    // Not acked means not shown on resume either: the widget still holds it.
    const meanwhile = await Visitor.start(chat.url, { token: v.token, lastSeq: 0 });
    await meanwhile.next((f) => f.type === 'entry');
    expect(
      meanwhile
        .entries()
        .filter((e) => e.from === 'visitor')
        .map((e) => e.text),
    ).toEqual(['before the outage']);
    meanwhile.close();

    network.restore();
    const back = await Visitor.start(chat.url, { token: v.token, lastSeq: 1 });
    // The widget resends what was not acked, with the same client message id, until it is.
    const ack = await waitFor(
      async () => {
        back.send({ type: 'message', clientMessageId: 'during', text: 'during the outage' });
        return back.next((f) => f.type === 'ack' && f.clientMessageId === 'during', 3_000).catch(() => undefined);
      },
      40_000,
      'the resend to be acked',
    );
    expect(ack.seq).toBeGreaterThan(1);
    back.close();

    const visitorId = (JSON.parse(Buffer.from(v.token!.split('.')[0]!, 'base64url').toString()) as { v: string }).v;
    const ceId = `chat:${visitorId}:during`;
    await recorder.waitFor((r) => r.headers.ce_id === ceId, 20_000);
    // Several writes may reach the broker (a retried batch and the resend), but all carry one
    // ce_id, which is what consumers de-duplicate on: in effect the message exists once.
    const during = recorder.records.filter(
      (r) => r.message.key?.toString() === v.conversationId && ContactReceived.decode(r.message.value!).text === 'during the outage',
    );
    expect(new Set(during.map((r) => r.headers.ce_id))).toEqual(new Set([ceId]));
    const stored = (await chat.chat.store.entriesAfter(v.conversationId!, 0)).filter((d) => d.from === 'visitor');
    expect(stored.map((d) => [d.seq, d.text])).toEqual([
      [1, 'before the outage'],
      [ack.seq, 'during the outage'],
    ]);
  });

  it('says a code could not be sent while Kafka is unreachable, and sends one once it is back', async () => {
    const v = await Visitor.start(chat.url);
    network.cut();
    v.send({ type: 'verify-email', email: 'ana@example.com' });
    expect(await v.next((f) => f.type === 'error')).toEqual({
      type: 'error',
      code: 'not-accepted',
      message: 'The code could not be sent right now; try again in a minute.',
    });
    network.restore();
    const sent = await waitFor(
      async () => {
        v.send({ type: 'verify-email', email: 'ana@example.com' });
        return v.next((f) => f.type === 'verification-sent' || f.code === 'verification-limit', 5_000).catch(() => undefined);
      },
      40_000,
      'a code to be sent',
    );
    expect(sent.type).toBe('verification-sent');
    v.close();
  });
});
