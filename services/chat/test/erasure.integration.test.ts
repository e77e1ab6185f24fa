// Erasure in the chat service's store, against the real broker and store: a chat whose visitor
// id was erased before the start, and one whose proved email address was erased while it runs,
// lose their conversation, profile, facts, messages, numbers, verification codes and tries, and
// the uploaded files no other chat uses; another visitor's chat and a file both sent stay, and
// following again (a restart) brings nothing back.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IdentityKind } from '#libs/proto';
import { AttachmentFiles } from '#libs/store/attachments';
import { erasureHarness, uniqueId, waitFor, type ErasureHarness } from '#libs/testing';
import { eraseChatData } from '../src/erasure';
import { ChatStore } from '../src/store';
import { VerificationStore } from '../src/verification-store';
import { visitorDraft } from '../src/visitor-message';

let harness: ErasureHarness;
let parts: { store: ChatStore; codes: VerificationStore; files: AttachmentFiles };

beforeAll(async () => {
  harness = await erasureHarness('chat');
  parts = { store: new ChatStore(harness.db), codes: new VerificationStore(harness.db), files: new AttachmentFiles(harness.db, 'chat_attachments', 'chat') };
  await Promise.all([parts.store.init(), parts.codes.init()]);
});

afterAll(() => harness?.close());

const upload = () => {
  const content = randomBytes(64);
  return { sha256: createHash('sha256').update(content).digest('hex'), content };
};
const shared = upload();

/** A chat with everything the service keeps of it: profile, proved address, a message, a code and a try, two files. */
async function chat(email: string) {
  const owner = { conversationId: uniqueId('conv'), visitorId: uniqueId('visitor'), reference: uniqueId('ref') };
  const { store, codes, files } = parts;
  await store.saveProfile(owner, { name: 'Ana Example', email, phone: '+14155550199' });
  await store.setFact(owner.conversationId, 'verifiedEmail', email);
  await store.setFact(owner.conversationId, 'surveyQuestion', 'How did we do?');
  const message = await store.storeOnce({ ...visitorDraft(owner.conversationId, uniqueId('m'), 'my card ends 4242'), accepted: true });
  const code = await codes.addCode(owner.conversationId, email, 'hash', new Date(), 600_000);
  await codes.countTry(code._id, 5, new Date());
  const own = upload();
  await files.store(own.sha256, 'image/png', own.content, owner.conversationId);
  await files.store(shared.sha256, 'image/png', shared.content, owner.conversationId);
  return { ...owner, email, messageId: message._id, codeId: code._id, file: own.sha256 };
}
type Chat = Awaited<ReturnType<typeof chat>>;

async function held(c: Chat): Promise<number[]> {
  const { store, codes } = parts;
  return Promise.all([
    store.conversations.countDocuments({ _id: c.conversationId }),
    store.profiles.countDocuments({ _id: c.conversationId }),
    store.facts.countDocuments({ conversationId: c.conversationId }),
    store.messages.countDocuments({ conversationId: c.conversationId }),
    store.numbers.countDocuments({ conversationId: c.conversationId }),
    codes.codes.countDocuments({ _id: c.codeId }),
    codes.tries.countDocuments({ codeId: c.codeId }),
    parts.files.find(c.file).then((f) => (f ? 1 : 0)),
  ]);
}
const gone = async (c: Chat) => (await held(c)).every((n) => n === 0);
const kept = async (c: Chat) => (await held(c)).every((n) => n > 0);
const follow = () => harness.follow({ what: 'chat store', apply: (erased) => eraseChatData(parts, erased) });

it('deletes the chats of an erased visitor and of an erased proved address, and keeps another visitor’s', async () => {
  const byVisitor = await chat(`${uniqueId('ana')}@customer.test`);
  const byAddress = await chat(`${uniqueId('bo')}@customer.test`);
  const other = await chat(`${uniqueId('cy')}@customer.test`);
  await harness.erase('identity', `${IdentityKind.IDENTITY_KIND_CHAT_VISITOR}|${byVisitor.visitorId}`);

  await follow();
  expect(await gone(byVisitor)).toBe(true);
  expect(await kept(byAddress)).toBe(true);

  await harness.erase('identity', `${IdentityKind.IDENTITY_KIND_EMAIL}|${byAddress.email}`);
  await waitFor(() => gone(byAddress), 20_000, 'the chat of the erased address to go');
  expect(await kept(other)).toBe(true);
  expect(await parts.store.profile(other.conversationId)).toMatchObject({ name: 'Ana Example' });
  expect(await parts.files.find(shared.sha256)).toBeDefined();

  // A restart applies only the erasures new to the store (none here): nothing comes back, nothing else goes.
  await follow();
  expect(await gone(byVisitor)).toBe(true);
  expect(await gone(byAddress)).toBe(true);
  expect(await kept(other)).toBe(true);
});
