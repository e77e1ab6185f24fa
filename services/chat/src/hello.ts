// A visitor's first frame: a new conversation with a fresh token, or a resumed one, with
// everything the browser has not seen yet.
import { AdmissionRefused } from './admission';
import { newConversationReference } from '#libs/contact';
import { newId, waitFrame } from './conversation';
import type { ChatParts } from './parts';
import { CLOSE, parseHello, profileClaims, type FrameError } from './protocol';
import type { VisitorSession } from './session';
import { toEntry, type ConversationDoc } from './store';
import { InvalidTokenError, issueVisitorToken, verifyVisitorToken, type VisitorClaims } from './token';

/** Who the session turned out to be. */
interface Start {
  claims: VisitorClaims;
  token: string;
  /** The stored conversation of a resumed visitor (none until the first message or profile). */
  conversation: ConversationDoc | null;
  resumed: boolean;
}

type HelloParts = Pick<ChatParts, 'config' | 'store' | 'admission' | 'connected' | 'metrics'>;

/** A returning visitor: their token, and what this conversation stored of them. */
async function resume({ config, store, metrics }: HelloParts, session: VisitorSession, token: string): Promise<Start | undefined> {
  let claims: VisitorClaims;
  try {
    claims = verifyVisitorToken(config.CHAT_TOKEN_SECRET, token);
  } catch (err) {
    metrics.frames.inc({ outcome: 'bad-token' });
    session.closeWith(CLOSE.policyViolation, err instanceof InvalidTokenError ? `invalid token: ${err.reason}` : 'invalid token');
    return undefined;
  }
  // No stored conversation is fine: the token is ours and nothing was written yet.
  const [conversation, stored, verifiedEmail] = await Promise.all([
    store.getConversation(claims.conversationId),
    store.profile(claims.conversationId),
    store.fact(claims.conversationId, 'verifiedEmail'),
  ]);
  session.verifiedEmail = verifiedEmail;
  session.profile = stored;
  if (conversation && conversation.visitorId !== claims.visitorId) {
    metrics.frames.inc({ outcome: 'bad-token' });
    session.closeWith(CLOSE.policyViolation, 'invalid token: conversation belongs to another visitor');
    return undefined;
  }
  return { claims, token, conversation, resumed: true };
}

/** A new visitor, if admission lets the address start a conversation: nothing is stored until the first message or profile. */
function begin({ config, admission }: HelloParts, session: VisitorSession): Start | undefined {
  try {
    admission.startConversation(session.address, Date.now());
  } catch (err) {
    if (!(err instanceof AdmissionRefused)) throw err;
    session.turnAway(err);
    return undefined;
  }
  const identity = { visitorId: newId('v'), conversationId: newId('c'), reference: newConversationReference() };
  const token = issueVisitorToken(config.CHAT_TOKEN_SECRET, identity, config.CHAT_TOKEN_TTL_SECONDS);
  return { claims: verifyVisitorToken(config.CHAT_TOKEN_SECRET, token), token, conversation: null, resumed: false };
}

/** What a resumed visitor missed after `lastSeq`, and the wait while the conversation is queued. */
async function replay({ config, store }: HelloParts, session: VisitorSession, start: Start, lastSeq: number): Promise<void> {
  const { conversationId } = start.claims;
  for (const doc of await store.entriesAfter(conversationId, lastSeq)) session.send(toEntry(doc));
  if (!start.conversation) return;
  const [ended, wait, opened] = await Promise.all([store.fact(conversationId, 'ended'), store.fact(conversationId, 'wait'), store.isOpened(conversationId)]);
  if (opened && !ended) session.send(waitFrame(wait, config.CHAT_SLA_TARGET_MS));
}

/** The first frame of a session, which must be a hello; anything else closes the connection. */
export async function hello(parts: HelloParts, session: VisitorSession, raw: string): Promise<void> {
  const { store, connected, metrics } = parts;
  let frame;
  try {
    frame = parseHello(raw);
  } catch (err) {
    metrics.frames.inc({ outcome: 'invalid' });
    return session.closeWith(CLOSE.policyViolation, (err as FrameError).message.slice(0, 120));
  }
  session.helloReceived();
  const typed = profileClaims(frame);
  const start = frame.token !== undefined ? await resume(parts, session, frame.token) : begin(parts, session);
  if (!start) return;
  const { claims } = start;
  session.profile = { ...session.profile, ...typed };
  await store.saveProfile(claims, typed);
  const lastSeq = start.conversation ? await store.lastNumber(claims.conversationId) : 0;
  if (!session.isOpen) return;
  // Joined and welcomed with no wait between, so no live entry reaches the socket before its
  // welcome; what was stored meanwhile comes with the replay below.
  session.claims = claims;
  connected.join(claims.conversationId, session);
  session.send({ type: 'welcome', token: start.token, conversationId: claims.conversationId, reference: claims.reference, resumed: start.resumed, lastSeq });
  if (session.verifiedEmail) session.send({ type: 'verified', email: session.verifiedEmail });
  if (start.resumed) await replay(parts, session, start, frame.lastSeq);
}
