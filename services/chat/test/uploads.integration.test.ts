// A visitor's file through the real chat service, store and broker: uploaded over HTTP with the
// session's token, refused in words over the limits, kept, carried on the message's event as an
// Attachment, and served to the desk's token on the content path.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { recordTopics, testAuthEnv, testToken, uniqueId, waitFor } from '#libs/testing';
import { ALLOWED_ORIGIN, dropChatCollections, startInstance, Visitor, type Instance } from './helpers';

const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(uniqueId('pixels'))]);

describe('chat uploads', () => {
  const prefix = uniqueId('chat_up').replace(/-/g, '_');
  let chat: Instance;
  let base: string;
  let recorder: Awaited<ReturnType<typeof recordTopics>>;
  const open: Visitor[] = [];

  beforeAll(async () => {
    recorder = await recordTopics([topics.contactInbound.name]);
    chat = await startInstance(prefix, { ...testAuthEnv('chat'), CHAT_UPLOAD_MAX_BYTES: '4096', CHAT_UPLOADS_PER_MINUTE: '4' });
    base = `http://127.0.0.1:${chat.chat.port}`;
  });
  afterAll(async () => {
    for (const v of open) v.close();
    await recorder?.close();
    await chat?.ctx.stop();
    await dropChatCollections(prefix);
  });

  const visitor = async () => {
    const v = await Visitor.start(chat.url);
    open.push(v);
    return v;
  };
  const upload = (token: string | undefined, body: Buffer, type: string, name = 'photo.png', id = uniqueId('m')) =>
    fetch(`${base}/upload`, {
      method: 'POST',
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        'content-type': type,
        'x-file-name': encodeURIComponent(name),
        'x-client-message-id': id,
        origin: ALLOWED_ORIGIN,
      },
      body,
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown>, cors: r.headers.get('access-control-allow-origin') }));

  it('keeps an allowed file, publishes it on the message, and serves it to the desk', async () => {
    const v = await visitor();
    const sha256 = createHash('sha256').update(png).digest('hex');
    const sent = await upload(v.token, png, 'image/png', 'Foto März.png');
    expect(sent).toMatchObject({ status: 200, body: { storageRef: `chat-attachment:${sha256}` }, cors: ALLOWED_ORIGIN });
    const contact = await waitFor(
      () => recorder.values(topics.contactInbound).find((c) => c.conversationId === v.conversationId && c.attachments.length),
      30_000,
      'the file on the message event',
    );
    expect(contact.attachments).toEqual([
      { name: 'Foto März.png', contentType: 'image/png', sizeBytes: png.length, sha256, storageRef: `chat-attachment:${sha256}` },
    ]);
    // The same message sent again is the same message.
    const again = await upload(v.token, png, 'image/png', 'Foto März.png', String(contact.channelMetadata.client_message_id));
    expect(again.body.seq).toBe(sent.body.seq);

    const desk = await testToken({ id: 'ana', role: 'agent' }, 'chat');
    const served = await fetch(`${base}/internal/attachments/${sha256}`, { headers: { authorization: `Bearer ${desk}` } });
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true);
    // A visitor's token opens nothing there.
    expect((await fetch(`${base}/internal/attachments/${sha256}`, { headers: { authorization: `Bearer ${v.token}` } })).status).toBe(401);
  });

  it('refuses each upload over a limit with its own status and reason', async () => {
    const v = await visitor();
    expect(await upload(undefined, png, 'image/png')).toMatchObject({ status: 401 });
    expect(await upload('forged.token', png, 'image/png')).toMatchObject({ status: 401 });
    expect(await upload(v.token, Buffer.alloc(5000, 1), 'application/pdf')).toMatchObject({
      status: 413,
      body: { error: expect.stringMatching(/larger than/) },
    });
    // A program, and markup claiming to be a PNG: the bytes decide.
    expect(await upload(v.token, Buffer.from([0x4d, 0x5a, 0x90, 0x00]), 'application/octet-stream', 'setup.exe')).toMatchObject({ status: 415 });
    expect(await upload(v.token, Buffer.from('<html><script>alert(1)</script>'), 'image/png')).toMatchObject({ status: 415 });
    // Four a minute per chat, each try counting: the fourth goes, the fifth is refused.
    expect(await upload(v.token, png, 'image/png')).toMatchObject({ status: 200 });
    const over = await upload(v.token, png, 'image/png');
    expect(over).toMatchObject({ status: 429, body: { error: expect.stringMatching(/files a minute/) } });
  });
});
