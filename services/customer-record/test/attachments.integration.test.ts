// Opening a file through the real gRPC API and store: only a person who may read the
// conversation, only a file that conversation's messages carried, every opening and every
// refusal in the audit log.
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityKind, type ListAuditResponse, type OpenAttachmentResponse } from '#libs/proto';
import { uniqueId } from '#libs/testing';
import { dropDatabase, emailContact, offered, REASON, startHarness, tokenFor, type Harness } from './harness';

const sender = () => ({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: `${uniqueId('files')}@example.com`, namespace: '' });
const sha = (c: string) => c.repeat(64);
const file = { name: 'invoice.pdf', contentType: 'application/pdf', sizeBytes: 2048, sha256: sha('a'), storageRef: `email-attachment:${sha('a')}` };

describe('opening a conversation’s attachment', () => {
  let h: Harness;
  let ana: string;
  let bo: string;
  const anaId = uniqueId('ana');
  const boId = uniqueId('bo');

  beforeAll(async () => {
    h = await startHarness();
    [ana, bo] = await Promise.all([tokenFor(anaId, 'agent'), tokenFor(boId, 'agent')]);
  });
  afterAll(async () => {
    await h.stop();
    await dropDatabase(h.database);
  });

  const audit = async (filter: { customerId?: string; actorId?: string }) =>
    (await h.call<object, ListAuditResponse>('listAudit', filter, 'supervisor')).entries.map((e) => [e.actorId, e.action, e.conversationId]);

  it('answers the file to the agent holding the conversation, refuses another agent and a file it never carried, and audits each', async () => {
    const c = emailContact({ sender: sender(), attachments: [file] });
    await h.service.projection.onContact(c);
    await h.service.access.onConversationEvent(offered(c.conversationId, anaId));
    const customerId = (await h.service.store.findConversation(c.conversationId))!.customerId;
    const open = (storageRef: string, token: string) =>
      h.call<object, OpenAttachmentResponse>('openAttachment', { conversationId: c.conversationId, storageRef }, 'agent', token);

    const opened = await open(file.storageRef, ana);
    expect(opened.attachment).toMatchObject({ name: 'invoice.pdf', contentType: 'application/pdf', sha256: sha('a'), storageRef: file.storageRef });
    await expect(open(file.storageRef, bo)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    // A file of another conversation, named with this one: not this conversation's file.
    await expect(open(`email-attachment:${sha('b')}`, ana)).rejects.toMatchObject({
      code: status.NOT_FOUND,
      details: expect.stringMatching(/carried this file/),
    });
    await expect(open('../../etc/passwd', ana)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });

    expect(await audit({ customerId })).toEqual([
      [anaId, 'OpenAttachmentRefused', c.conversationId],
      [anaId, 'OpenAttachment', c.conversationId],
    ]);
    // Refused before the guard named a customer: the entry names the person and the conversation.
    expect(await audit({ actorId: boId })).toEqual([[boId, 'OpenAttachmentRefused', c.conversationId]]);
  });

  it('lets a supervisor open a file only with a reason, and never ops', async () => {
    const c = emailContact({ sender: sender(), attachments: [file] });
    await h.service.projection.onContact(c);
    const req = { conversationId: c.conversationId, storageRef: file.storageRef };
    await expect(h.call('openAttachment', req, 'supervisor')).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/reason is required/),
    });
    await expect(h.call<object, OpenAttachmentResponse>('openAttachment', { ...req, reason: REASON }, 'supervisor')).resolves.toMatchObject({
      attachment: { name: 'invoice.pdf' },
    });
    await expect(h.call('openAttachment', { ...req, reason: REASON }, 'ops')).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });
});
