// Proving an email in the chat against the real broker and store: the code goes out on
// cc.outbound.v1 to the email channel, is checked with tries and limits, and only a proven
// address is published as an identity hint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { topics } from '#libs/kafka';
import { Channel, ContactReceived, IdentityKind, OutboundKind, OutboundMessage } from '#libs/proto';
import pino from 'pino';
import { MONGODB_URI, recordTopics, testContext, uniqueId } from '#libs/testing';
import { startChat } from '../src/service';
import { chatConfig, DATABASE, dropChatCollections, Visitor, type Instance } from './helpers';

describe('chat email verification', () => {
  const prefix = uniqueId('chatverify').replace(/-/g, '_');
  let chat: Instance;
  let recorder: Awaited<ReturnType<typeof recordTopics>>;
  const open: Visitor[] = [];
  /** Everything the service logs, at debug: no code and no address may be in it. */
  const logLines: string[] = [];
  const codesSent: string[] = [];
  const visitor = async (hello: Record<string, unknown> = {}) => {
    const v = await Visitor.start(chat.url, hello);
    open.push(v);
    return v;
  };
  /** The code mail chat published for this conversation (the test reads the code as the mailbox would). */
  const mailTo = async (conversationId: string, nth = 1) => {
    const records = () =>
      recorder.values(topics.outbound).filter((m) => m.conversationId === conversationId && m.kind === OutboundKind.OUTBOUND_KIND_VERIFICATION_CODE);
    await recorder.waitFor(() => records().length >= nth);
    return records()[nth - 1]!;
  };
  const codeIn = (m: OutboundMessage) => {
    const code = /Your code is (\d{6})\./.exec(m.text)![1]!;
    codesSent.push(code);
    return code;
  };
  const other = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  const contactOf = async (v: Visitor, clientMessageId: string) =>
    ContactReceived.decode(
      (
        await recorder.waitFor(
          (r) =>
            r.topic === topics.contactInbound.name &&
            (r.headers.ce_id ?? '').endsWith(`:${clientMessageId}`) &&
            ContactReceived.decode(r.message.value!).conversationId === v.conversationId,
        )
      ).message.value!,
    );

  beforeAll(async () => {
    recorder = await recordTopics([topics.contactInbound.name, topics.outbound.name]);
    const ctx = { ...testContext('chat'), logger: pino({ level: 'debug' }, { write: (line: string) => logLines.push(line) }) };
    const service = await startChat(
      ctx,
      chatConfig({ CHAT_VERIFY_CODES_PER_CONVERSATION_HOUR: '3', CHAT_VERIFY_CODES_PER_ADDRESS_DAY: '4', CHAT_RATE_BURST: '40', LOG_LEVEL: 'debug' }),
      { collectionPrefix: prefix },
    );
    chat = { ctx, chat: service, url: `ws://127.0.0.1:${service.port}/chat` };
  });

  afterAll(async () => {
    for (const v of open) v.close();
    await recorder?.close();
    await chat?.ctx.stop();
    await dropChatCollections(prefix);
  });

  it('mails a code through the email channel, counts wrong tries, and publishes the proven address as an identity hint', async () => {
    const address = `${uniqueId('ana')}@example.com`;
    const v = await visitor({ email: address.toUpperCase() });
    v.send({ type: 'message', clientMessageId: 'before', text: 'hello' });
    const before = await contactOf(v, 'before');
    expect(before.identityHints).toEqual([]);
    expect(before.claimedIdentities).toEqual([{ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: address, namespace: '' }]);

    v.send({ type: 'verify-code', code: '123456' });
    expect(await v.next((f) => f.type === 'error' && f.code === 'no-code')).toMatchObject({ message: expect.stringContaining('ask for one first') });
    v.send({ type: 'verify-email', email: ` ${address} ` });
    expect(await v.next((f) => f.type === 'verification-sent')).toEqual({ type: 'verification-sent', email: address, expiresInMs: 600_000 });
    const mail = await mailTo(v.conversationId!);
    expect(mail).toMatchObject({
      channel: Channel.CHANNEL_EMAIL,
      recipient: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: address },
      subject: 'Your chat verification code',
    });
    const code = codeIn(mail);
    // Only a keyed hash is stored, never the code.
    const client = await MongoClient.connect(MONGODB_URI);
    const stored = await client.db(DATABASE).collection(`${prefix}_verification_codes`).findOne({ conversationId: v.conversationId });
    await client.close();
    expect(stored).toMatchObject({ email: address, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(JSON.stringify(stored)).not.toContain(code);

    v.send({ type: 'verify-code', code: other(code) });
    expect(await v.next((f) => f.type === 'error' && f.code === 'code-wrong')).toMatchObject({
      triesLeft: 4,
      message: 'That code is not right; 4 tries left.',
    });
    const tab = await visitor({ token: v.token });
    v.send({ type: 'verify-code', code: `${code.slice(0, 3)} ${code.slice(3)}` });
    expect(await v.next((f) => f.type === 'verified')).toEqual({ type: 'verified', email: address });
    // Another open tab of the same chat hears it, and its messages carry the proven address too.
    expect(await tab.next((f) => f.type === 'verified')).toEqual({ type: 'verified', email: address });
    tab.send({ type: 'message', clientMessageId: 'tab', text: 'from the other tab' });
    expect((await contactOf(tab, 'tab')).identityHints).toEqual([{ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: address, namespace: '' }]);
    v.send({ type: 'message', clientMessageId: 'after', text: 'it is me' });
    const after = await contactOf(v, 'after');
    expect(after.identityHints).toEqual([{ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: address, namespace: '' }]);
    expect(after.claimedIdentities).toEqual([]);
    // A used code cannot be used again, and a resumed session is still verified.
    v.send({ type: 'verify-code', code });
    await v.next((f) => f.type === 'error' && f.code === 'no-code');
    const again = await visitor({ token: v.token });
    expect(await again.next((f) => f.type === 'verified')).toEqual({ type: 'verified', email: address });
  });

  it('spends a code after five wrong tries and refuses an expired one', async () => {
    const v = await visitor();
    const address = `${uniqueId('bo')}@example.com`;
    v.send({ type: 'verify-email', email: address });
    const code = codeIn(await mailTo(v.conversationId!));
    for (let i = 1; i <= 5; i++) v.send({ type: 'verify-code', code: other(code) });
    await v.next((f) => f.type === 'error' && f.code === 'too-many-tries');
    expect(v.frames.filter((f) => f.code === 'code-wrong').map((f) => f.triesLeft)).toEqual([4, 3, 2, 1]);
    v.send({ type: 'verify-code', code });
    await v.next((f) => f.type === 'error' && f.code === 'too-many-tries' && v.frames.filter((g) => g.code === 'too-many-tries').length === 2);
    expect(v.frames.some((f) => f.type === 'verified')).toBe(false);

    v.send({ type: 'verify-email', email: address });
    const second = codeIn(await mailTo(v.conversationId!, 2));
    const client = await MongoClient.connect(MONGODB_URI);
    await client
      .db(DATABASE)
      .collection(`${prefix}_verification_codes`)
      .updateMany({ conversationId: v.conversationId }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    await client.close();
    v.send({ type: 'verify-code', code: second });
    expect(await v.next((f) => f.type === 'error' && f.code === 'code-expired')).toMatchObject({ message: 'The code has expired; ask for a new one.' });
  });

  it('limits codes per conversation and per address, says when to retry, and leaves other conversations alone', async () => {
    const address = `${uniqueId('cy')}@example.com`;
    const v = await visitor();
    for (let i = 0; i < 4; i++) v.send({ type: 'verify-email', email: address });
    const limited = await v.next((f) => f.type === 'error' && f.code === 'verification-limit');
    expect(limited.message).toMatch(/^This chat asked for 3 codes in the last hour; try again in \d+ minutes\.$/);
    expect(limited.retryAfterMs).toBeGreaterThan(59 * 60_000);
    expect(v.frames.filter((f) => f.type === 'verification-sent')).toHaveLength(3);

    // The fourth code for the address comes from another chat; the fifth is refused wherever it is asked.
    const w = await visitor();
    w.send({ type: 'verify-email', email: address });
    await w.next((f) => f.type === 'verification-sent');
    const x = await visitor();
    x.send({ type: 'verify-email', email: address.toUpperCase() });
    const perAddress = await x.next((f) => f.type === 'error' && f.code === 'verification-limit');
    expect(perAddress.message).toMatch(/^This address was sent 4 codes in the last day; try again in \d+ minutes\.$/);
    // Another address from the same chat is fine, and so is the rest of the chat.
    x.send({ type: 'verify-email', email: `${uniqueId('dee')}@example.com` });
    await x.next((f) => f.type === 'verification-sent');
    x.send({ type: 'message', clientMessageId: 'm1', text: 'still here' });
    await x.next((f) => f.type === 'ack');
  });

  it('answers a malformed verification frame with a specific error', async () => {
    const v = await visitor();
    v.send({ type: 'verify-email', email: 'not an address' });
    expect(await v.next((f) => f.type === 'error')).toEqual({ type: 'error', code: 'invalid-frame', message: 'email: email is not a valid email address' });
    v.send({ type: 'verify-code', code: '12ab56' });
    expect(await v.next((f) => f.type === 'error' && f.message.startsWith('code'))).toMatchObject({
      code: 'invalid-frame',
      message: 'code: code must be the 6 digits from the mail',
    });
  });

  it('logs neither a code nor an address', () => {
    expect(codesSent.length).toBeGreaterThan(0);
    expect(logLines.length).toBeGreaterThan(0);
    const log = logLines.join('');
    // As a word of its own: ids in the log (hex, base64url) may hold six digits by chance.
    for (const code of codesSent) expect(log).not.toMatch(new RegExp(`(?<![0-9A-Za-z_-])${code}(?![0-9A-Za-z_-])`));
    expect(log).not.toMatch(/@example\.com/i);
  });
});
