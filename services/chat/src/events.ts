// The events a visitor's frames become, built without I/O: a message into a contact for
// routing, a survey answer into a conversation event.
import { Channel, ContactKind, ContactReceived, ConversationEvent, IdentityKind } from '#libs/proto';
import { contactEventId, surveyEventId } from './conversation';
import { contactIdentities } from './identities';
import type { VisitorProfile } from './protocol';
import type { VisitorClaims } from './token';

/** The visitor as the session knows them when the message is published. */
export interface Sender {
  origin: string;
  profile: VisitorProfile;
  verifiedEmail?: string;
}

/** A numbered visitor message. */
export interface NumberedMessage {
  clientMessageId: string;
  seq: number;
  text: string;
  at: Date;
  newConversation: boolean;
}

/** The contact a visitor's message becomes; its id is the same for every resend. */
export function visitorContact(claims: VisitorClaims, sender: Sender, message: NumberedMessage): ContactReceived {
  const identities = contactIdentities(sender.profile, sender.verifiedEmail);
  return ContactReceived.fromPartial({
    contactId: contactEventId(claims.visitorId, message.clientMessageId),
    conversationId: claims.conversationId,
    channel: Channel.CHANNEL_CHAT,
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    receivedAt: message.at,
    sender: { kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: claims.visitorId },
    senderDisplayName: sender.profile.name ?? '',
    recipient: { kind: IdentityKind.IDENTITY_KIND_OTHER, namespace: 'chat-site', value: sender.origin },
    newConversation: message.newConversation,
    conversationReference: claims.reference,
    text: message.text,
    identityHints: identities.verified,
    claimedIdentities: identities.claimed,
    externalId: String(message.seq),
    channelMetadata: { client_message_id: message.clientMessageId, origin: sender.origin },
  });
}

/** The visitor's answer to the survey the conversation offered (`question`), with who served them where routing said. */
export function surveyAnswered(
  conversationId: string,
  question: string,
  score: number,
  comment: string | undefined,
  at: Date,
  servedBy: { agentId: string; queue: string } = { agentId: '', queue: '' },
): ConversationEvent {
  return ConversationEvent.fromPartial({
    eventId: surveyEventId(conversationId),
    conversationId,
    occurredAt: at,
    channel: Channel.CHANNEL_CHAT,
    reason: { code: 'chat.survey_answered', text: 'the visitor answered the satisfaction survey in the chat widget' },
    step: { $case: 'surveyAnswered', surveyAnswered: { question, score, comment: comment ?? '', ...servedBy } },
  });
}
