// The two verification frames: "send a code to this address" and "here is the code". The
// rules are in verification.ts; this part reads and writes the store and publishes the mail.
import { eventId } from '#libs/contact';
import { Channel, IdentityKind, OutboundKind, OutboundMessage } from '#libs/proto';
import type { ChatConfig } from './config';
import type { ServerFrame } from './protocol';
import type { ChatStore } from './store';
import type { VisitorClaims } from './token';
import {
  checkCodeAttempt,
  checkCodeRequest,
  codeHash,
  codeMail,
  codeMatches,
  newCode,
  VerificationError,
  wrongCode,
  type VerificationLimits,
} from './verification';
import type { VerificationStore } from './verification-store';

export interface VerifierDeps {
  config: ChatConfig;
  store: ChatStore;
  codes: VerificationStore;
  /** Publishes on cc.outbound.v1; throws KafkaUnavailableError when Kafka did not take it. */
  publish: (message: OutboundMessage) => Promise<void>;
}

function verificationLimits(config: ChatConfig): VerificationLimits {
  return {
    codeTtlMs: config.CHAT_VERIFY_CODE_TTL_MS,
    maxTries: config.CHAT_VERIFY_MAX_TRIES,
    perConversationPerHour: config.CHAT_VERIFY_CODES_PER_CONVERSATION_HOUR,
    perAddressPerDay: config.CHAT_VERIFY_CODES_PER_ADDRESS_DAY,
  };
}

export function createVerifier(deps: VerifierDeps) {
  const { config, store, codes } = deps;
  const limits = verificationLimits(config);
  const secret = config.CHAT_TOKEN_SECRET;

  /** Sends a code to the address through the email channel. The code itself is never logged. */
  async function requestCode(claims: VisitorClaims, email: string): Promise<ServerFrame> {
    const now = new Date();
    const recent = await codes.recentRequests(claims.conversationId, email, now);
    checkCodeRequest(now.getTime(), recent.byConversation, recent.byAddress, limits);
    const code = newCode();
    // Written before it is mailed: a code counts against the limits even if the mail fails.
    const doc = await codes.addCode(claims.conversationId, email, codeHash(secret, claims.conversationId, email, code), now, limits.codeTtlMs);
    const mail = codeMail(code, claims.reference, limits.codeTtlMs);
    await deps.publish(
      OutboundMessage.fromPartial({
        messageId: eventId('chat', 'chat-verification', doc._id),
        conversationId: claims.conversationId,
        channel: Channel.CHANNEL_EMAIL,
        kind: OutboundKind.OUTBOUND_KIND_VERIFICATION_CODE,
        recipient: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: email, namespace: '' },
        subject: mail.subject,
        text: mail.text,
        createdAt: now,
        conversationReference: claims.reference,
      }),
    );
    return { type: 'verification-sent', email, expiresInMs: limits.codeTtlMs };
  }

  /** Checks a typed code; the address becomes the conversation's verified email. */
  async function checkCode(claims: VisitorClaims, typed: string): Promise<string> {
    const now = new Date();
    const pending = await codes.pendingCode(claims.conversationId);
    if (!pending) throw new VerificationError('no-code', 'No code was sent in this chat, or it was used already; ask for one first.');
    const tries = await codes.countTry(pending._id, limits.maxTries, now);
    checkCodeAttempt(pending, tries, now.getTime(), limits);
    if (!codeMatches(pending.hash, secret, claims.conversationId, pending.email, typed)) throw wrongCode(tries, limits);
    await codes.markUsed(pending._id, now);
    await store.setFact(claims.conversationId, 'verifiedEmail', pending.email);
    return pending.email;
  }

  return { requestCode, checkCode };
}

/** The error frame for a refusal: its code, words and what the widget needs to say when to retry. */
export function verificationErrorFrame(err: VerificationError): ServerFrame {
  return { type: 'error', code: err.code, message: err.message, ...err.detail };
}

export type Verifier = ReturnType<typeof createVerifier>;
