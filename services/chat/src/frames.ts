// What each frame of a visitor who said hello does: the widget protocol's dispatch.
import { KafkaUnavailableError } from '#libs/kafka';
import { inSpan, SpanKind } from '#libs/tracing';
import { invalidFrame, notAccepted } from './answers';
import { hello } from './hello';
import type { ChatParts } from './parts';
import { parseClientFrame, profileClaims, type ServerFrame } from './protocol';
import type { VisitorSession } from './session';
import { surveyAnswer } from './survey';
import type { VisitorClaims } from './token';
import { VerificationError } from './verification';
import { verificationErrorFrame } from './verify';
import { visitorMessage } from './visitor-message';

/** Runs a verification step and answers with its frame, or the refusal's own error frame. */
async function verification({ metrics }: ChatParts, session: VisitorSession, step: () => Promise<ServerFrame>): Promise<void> {
  try {
    session.send(await step());
    metrics.frames.inc({ outcome: 'verification' });
  } catch (err) {
    if (err instanceof VerificationError) {
      metrics.frames.inc({ outcome: err.code });
      return session.send(verificationErrorFrame(err));
    }
    if (!(err instanceof KafkaUnavailableError)) throw err;
    metrics.frames.inc({ outcome: 'not-accepted' });
    session.send(notAccepted.verificationCode());
  }
}

async function requestCode({ store, verifier }: ChatParts, session: VisitorSession, claims: VisitorClaims, email: string): Promise<ServerFrame> {
  session.profile = { ...session.profile, email };
  await store.saveProfile(claims, { email });
  return verifier.requestCode(claims, email);
}

async function checkCode({ verifier, connected }: ChatParts, session: VisitorSession, claims: VisitorClaims, code: string): Promise<ServerFrame> {
  const email = await verifier.checkCode(claims, code);
  // Every open tab of this conversation here publishes it from now on.
  for (const s of connected.of(claims.conversationId)) {
    s.verifiedEmail = email;
    if (s !== session) s.send({ type: 'verified', email });
  }
  session.verifiedEmail = email;
  return { type: 'verified', email };
}

async function handleFrame(parts: ChatParts, session: VisitorSession, raw: string): Promise<void> {
  if (!session.claims) return hello(parts, session, raw);
  let frame;
  try {
    frame = parseClientFrame(raw);
  } catch (err) {
    parts.metrics.frames.inc({ outcome: 'invalid' });
    return session.send(invalidFrame((err as Error).message));
  }
  const claims = session.claims;
  switch (frame.type) {
    case 'ping':
      return session.send({ type: 'pong' });
    case 'typing':
      return; // No contract carries the visitor's typing yet; accepted and dropped.
    case 'profile': {
      const typed = profileClaims(frame);
      session.profile = { ...session.profile, ...typed };
      return parts.store.saveProfile(claims, typed);
    }
    case 'verify-email':
      return verification(parts, session, () => requestCode(parts, session, claims, frame.email));
    case 'verify-code':
      return verification(parts, session, () => checkCode(parts, session, claims, frame.code));
    case 'message':
      return visitorMessage(parts, session, claims, frame.clientMessageId, frame.text);
    case 'survey-answer':
      return surveyAnswer(parts, session, claims, frame.score, frame.comment);
  }
}

/** Handles a session's frames, the first of which must be its hello. */
export function createFrameHandler(parts: ChatParts): (session: VisitorSession, raw: string) => Promise<void> {
  // Each frame in a SERVER span: a visitor's message starts its contact's trace here.
  return (session, raw) => inSpan('chat frame', { kind: SpanKind.SERVER }, () => handleFrame(parts, session, raw));
}
