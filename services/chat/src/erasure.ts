// Erased customers leave the chat service's own collections: a conversation named by the erasure,
// or whose visitor id or proved email address was erased (opened at or before the erasure), loses
// its conversation document, profile (the name, email and phone typed), facts (the proved email,
// the survey asked), messages, numbers, verification codes and their tries, and the uploaded
// files no other conversation uses. A pass over each collection: erasures are rare, and the
// store can only hash what it reads.
import { IdentityKind, type Identity } from '#libs/proto';
import type { ErasureSet } from '#libs/erasure';
import type { AttachmentFiles } from '#libs/store/attachments';
import { keptOf, passOver } from '#libs/store';
import type { ChatStore } from './store';
import type { VerificationStore } from './verification-store';

interface ChatErasureParts {
  store: ChatStore;
  codes: VerificationStore;
  files: AttachmentFiles;
}

export async function eraseChatData(parts: ChatErasureParts, erased: ErasureSet): Promise<Record<string, number>> {
  const { store, codes, files } = parts;
  const gone = await erasedConversations(store, erased);
  const isErased = (conversationId: string, at: Date) => gone.has(conversationId) || erased.erasedSince('conversation', conversationId, at.getTime());
  for await (const m of passOver(store.messages.find({}, { projection: { _id: 1, conversationId: 1, at: 1 } })))
    if (isErased(m.conversationId, m.at)) gone.add(m.conversationId);
  const codeDocs = await keptOf(
    codes.codes.find({}, { projection: { _id: 1, conversationId: 1, email: 1, createdAt: 1 } }),
    (c) => isErased(c.conversationId, c.createdAt) || erasedAt(erased, email(c.email), c.createdAt),
  );
  const codeIds = codeDocs.map((c) => c._id);
  const ids = [...gone];
  const byConversation = { conversationId: { $in: ids } };
  const [conversations, profiles, facts, deletedMessages, numbers, deletedCodes, tries, uploads] = await Promise.all([
    ids.length ? store.conversations.deleteMany({ _id: { $in: ids } }) : undefined,
    ids.length ? store.profiles.deleteMany({ _id: { $in: ids } }) : undefined,
    ids.length ? store.facts.deleteMany(byConversation) : undefined,
    ids.length ? store.messages.deleteMany(byConversation) : undefined,
    ids.length ? store.numbers.deleteMany(byConversation) : undefined,
    codeIds.length ? codes.codes.deleteMany({ _id: { $in: codeIds } }) : undefined,
    codeIds.length ? codes.tries.deleteMany({ codeId: { $in: codeIds } }) : undefined,
    files.erase(isErased),
  ]);
  store.forget(ids);
  return {
    conversations: conversations?.deletedCount ?? 0,
    profiles: profiles?.deletedCount ?? 0,
    facts: facts?.deletedCount ?? 0,
    messages: deletedMessages?.deletedCount ?? 0,
    numbers: numbers?.deletedCount ?? 0,
    verificationCodes: deletedCodes?.deletedCount ?? 0,
    verificationTries: tries?.deletedCount ?? 0,
    ...uploads,
  };
}

/** Conversations erased by id, by their visitor id, or by the email address the visitor proved. */
async function erasedConversations(store: ChatStore, erased: ErasureSet): Promise<Set<string>> {
  const gone = new Set<string>();
  const opened = new Map<string, Date>();
  for await (const c of passOver(store.conversations.find({}, { projection: { _id: 1, visitorId: 1, createdAt: 1 } }))) {
    opened.set(c._id, c.createdAt);
    const visitor: Identity = { kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: c.visitorId, namespace: '' };
    if (erased.erasedSince('conversation', c._id, c.createdAt.getTime()) || erasedAt(erased, visitor, c.createdAt)) gone.add(c._id);
  }
  // The proved address is a fact without a time of its own: the conversation's opening stands for it.
  for await (const f of passOver(store.facts.find({}))) {
    if (!f._id.endsWith('/verifiedEmail') || typeof f.value !== 'string') continue;
    if (erasedAt(erased, email(f.value), opened.get(f.conversationId) ?? new Date(0))) gone.add(f.conversationId);
  }
  return gone;
}

function email(value: string): Identity {
  return { kind: IdentityKind.IDENTITY_KIND_EMAIL, value, namespace: '' };
}

function erasedAt(erased: ErasureSet, identity: Identity, at: Date): boolean {
  const when = erased.identityErasedAt(identity);
  return when !== undefined && at.getTime() <= when;
}
