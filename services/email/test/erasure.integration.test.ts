// Erasure in the email service's store, against the real broker and store: an erasure on
// cc.erasure.v1 before the service starts, and one made while it runs (by the customer's
// address), each delete the conversation documents, their Message-IDs, their survey and answer
// and the attachments no other conversation uses; another customer's thread, survey and files
// stay, a file both customers sent stays, and following again (a restart) brings nothing back.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Channel, IdentityKind } from '#libs/proto';
import { erasureHarness, uniqueId, waitFor, type ErasureHarness } from '#libs/testing';
import { EmailStore } from '../src/store';
import { claimerOf } from '#libs/delivery';

let harness: ErasureHarness;
let store: EmailStore;

beforeAll(async () => {
  harness = await erasureHarness('email');
  store = new EmailStore(harness.db, claimerOf(uniqueId('email')));
  await store.ensureIndexes();
});

afterAll(() => harness?.close());

const file = () => {
  const content = randomBytes(64);
  return { sha256: createHash('sha256').update(content).digest('hex'), content };
};
const shared = file();

async function thread(address: string) {
  const conversationId = uniqueId('conv');
  const messageId = `<${uniqueId('m')}@customer.test>`;
  const past = new Date(Date.now() - 1000);
  const opened = await store.createConversation({
    _id: conversationId,
    reference: uniqueId('ref'),
    customerAddress: address,
    subject: 'my account number 12345',
    openingMessageId: messageId,
    createdAt: past,
  });
  expect(opened).toBe(true);
  await store.addMessage(conversationId, messageId);
  const own = file();
  const reply = file();
  await store.storeAttachment(own.sha256, 'application/octet-stream', own.content, conversationId);
  await store.storeAttachment(shared.sha256, 'application/octet-stream', shared.content, conversationId);
  // An agent's file, uploaded before the reply and used by the conversation when it is sent.
  await store.storeAttachment(reply.sha256, 'application/octet-stream', reply.content);
  await store.attachmentUsed(reply.sha256, conversationId);
  await store.surveys.sent({ conversationId, channel: Channel.CHANNEL_EMAIL, question: 'How did we do?', sentAt: past, agentId: 'a1', queue: 'q' });
  await store.surveys.claimAnswer(conversationId, messageId, 4, past);
  return { conversationId, messageId, files: [own.sha256, reply.sha256] };
}

type Thread = Awaited<ReturnType<typeof thread>>;
const gone = async (t: Thread) =>
  !(await store.conversation(t.conversationId)) &&
  !(await store.conversationOfMessage(t.messageId)) &&
  !(await store.surveys.surveyOf(t.conversationId)) &&
  !(await store.surveys.answerOf(t.conversationId)) &&
  (await Promise.all(t.files.map((sha) => store.attachment(sha)))).every((f) => f === undefined);
const follow = () => harness.follow({ what: 'email store', apply: (erased) => store.erase(erased) });

async function kept(t: Thread): Promise<void> {
  expect(await store.conversation(t.conversationId)).toMatchObject({ subject: 'my account number 12345' });
  expect(await store.conversationOfMessage(t.messageId)).toBe(t.conversationId);
  expect(await store.surveys.surveyOf(t.conversationId)).toMatchObject({ question: 'How did we do?' });
  expect(await store.surveys.answerOf(t.conversationId)).toEqual({ by: t.messageId });
  for (const sha of t.files) expect(await store.attachment(sha)).toBeDefined();
}

it('deletes the threads, surveys and unshared files of a conversation erased before the start and of an address erased while it runs', async () => {
  const byConversation = await thread(`${uniqueId('ana')}@customer.test`);
  const address = `${uniqueId('bo')}@Customer.test`;
  const byAddress = await thread(address.toLowerCase());
  const other = await thread(`${uniqueId('cy')}@customer.test`);
  await harness.erase('conversation', byConversation.conversationId);

  await follow();
  // The erasures the topic held are applied before following resolves.
  expect(await gone(byConversation)).toBe(true);
  expect(await gone(byAddress)).toBe(false);

  // customer-record hashes the identity as `<kind>|<normalised value>`: the address in lower case.
  await harness.erase('identity', `${IdentityKind.IDENTITY_KIND_EMAIL}|${address.toLowerCase()}`);
  await waitFor(() => gone(byAddress), 20_000, 'the erased address’s thread to be deleted');
  await kept(other);
  // The file the other customer also sent is still theirs.
  expect(await store.attachment(shared.sha256)).toBeDefined();

  // A restart applies only the erasures new to the store (none here): nothing comes back, nothing else goes.
  await follow();
  expect(await gone(byConversation)).toBe(true);
  expect(await gone(byAddress)).toBe(true);
  await kept(other);
});
