// Files on an agent's email reply, over the real service, store, Kafka and SMTP: the upload on
// the attachments' port (and its refusals in words), then the customer's mail carrying the file
// byte for byte under its own name; a reply naming a file that is not stored is dead-lettered
// with its reason and never mailed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#libs/config';
import { DEAD_LETTER_TOPIC, topics } from '#libs/kafka';
import type { Attachment } from '#libs/proto';
import { connectKafka, type ServiceKafka } from '#libs/service';
import { dropDatabase, KAFKA_BROKERS, recordTopics, startMailSink, testAuthEnv, testContext, testToken, uniqueId, waitFor, type MailSink } from '#libs/testing';
import { emailConfig } from '../src/config';
import { startEmailService } from '../src/service';
import { emailReply, emailTestEnv } from './service-env';

const database = uniqueId('email_reply_files').replace(/-/g, '_');
const ctx = testContext('email-reply-files');
let sink: MailSink;
let kafka: ServiceKafka;
let recorder: Awaited<ReturnType<typeof recordTopics>>;
let upload: string;

beforeAll(async () => {
  sink = await startMailSink();
  recorder = await recordTopics([DEAD_LETTER_TOPIC]);
  kafka = await connectKafka(testContext('email-reply-files-kafka'), { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
  const started = await startEmailService(
    ctx,
    loadConfig(emailConfig, {
      ...emailTestEnv(database),
      EMAIL_CONTENT_HTTP_PORT: '0',
      SUPPORT_ADDRESSES: 'help@shop.test',
      SMTP_URL: sink.url,
      MAIL_FROM: 'Support <support@support.test>',
      EMAIL_OUTBOUND_GROUP: uniqueId('email-reply-files'),
      EMAIL_REPLY_ATTACHMENT_MAX_BYTES: '4096',
      LOG_LEVEL: 'silent',
      ...testAuthEnv('email'),
    }),
  );
  upload = `http://127.0.0.1:${started.contentPort}/internal/attachments`;
}, 60_000);

afterAll(async () => {
  await ctx.stop();
  await kafka.producer.disconnect();
  await recorder.close();
  await sink.close();
  await dropDatabase(database);
});

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(uniqueId('pixels'))]);

async function post(body: Buffer, type: string, token: string) {
  const res = await fetch(upload, { method: 'POST', body, headers: { authorization: `Bearer ${token}`, 'content-type': type } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const replyWith = (to: string, attachments: Attachment[]) => emailReply(to, { subject: 'Your receipt', text: 'The receipt is attached.', attachments });

describe('files on an email reply', () => {
  it('refuses an upload too large, of a type the bytes do not bear out, or from a supervisor', async () => {
    const ana = await testToken({ id: 'ana', role: 'agent' }, 'email');
    expect(await post(Buffer.alloc(5000, 0x41), 'text/plain', ana)).toMatchObject({ status: 413, body: { error: 'request body is larger than 4 KB' } });
    expect(await post(Buffer.from('MZ\u0000\u0001binary'), 'application/pdf', ana)).toMatchObject({ status: 415 });
    expect(await post(PNG, 'application/pdf', ana)).toMatchObject({ status: 415 });
    const sue = await testToken({ id: 'sue', role: 'supervisor' }, 'email');
    expect(await post(PNG, 'image/png', sue)).toMatchObject({ status: 403 });
  });

  it('mails the uploaded file with the reply, bytes intact under its own name', async () => {
    const ana = await testToken({ id: 'ana', role: 'agent' }, 'email');
    const stored = await post(PNG, 'image/png', ana);
    expect(stored).toMatchObject({ status: 201, body: { contentType: 'image/png', sizeBytes: PNG.length } });
    const to = `${uniqueId('cust')}@customer.test`;
    const file = { name: 'Quittung März.png', contentType: 'image/png', sizeBytes: PNG.length, sha256: '', storageRef: String(stored.body.storageRef) };
    const message = replyWith(to, [file]);
    await kafka.producer.publish(topics.outbound, message.conversationId, message, { id: message.messageId });
    const mail = await waitFor(
      () => sink.mails.find((m) => m.text?.includes('The receipt is attached.') && JSON.stringify(m.to).includes(to)),
      30_000,
      'the reply mailed',
    );
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments[0]).toMatchObject({ filename: 'Quittung März.png', contentType: 'image/png' });
    expect(mail.attachments[0]!.content.equals(PNG)).toBe(true);
  });

  it('dead-letters a reply naming a file that is not stored, and mails nothing', async () => {
    const to = `${uniqueId('cust')}@customer.test`;
    const sha = 'f'.repeat(64);
    const message = replyWith(to, [{ name: 'gone.pdf', contentType: 'application/pdf', sizeBytes: 10, sha256: sha, storageRef: `email-attachment:${sha}` }]);
    await kafka.producer.publish(topics.outbound, message.conversationId, message, { id: message.messageId });
    const dead = await waitFor(() => recorder.records.find((r) => r.headers.ce_id === message.messageId), 60_000, 'the reply dead-lettered');
    expect(dead.headers).toMatchObject({ dlq_reason: 'invalid' });
    expect(dead.headers.dlq_detail).toContain('is not stored, so the reply is not sent without it');
    expect(sink.mails.some((m) => JSON.stringify(m.to).includes(to))).toBe(false);
  });
});
