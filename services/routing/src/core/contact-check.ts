// What makes an inbound contact impossible to route, checked before anything is decided, so a
// batch of contacts can be refused whole before one of them changes the state.
import { ContactKind, type ContactReceived } from '#libs/proto';
import { channelName, isE164 } from '#libs/contact';

/** Why the contact can never be routed, or undefined when it can. */
export function contactProblem(contact: ContactReceived): string | undefined {
  if (!channelName(contact.channel)) return 'contact has no known channel';
  if (!contact.conversationId || contact.conversationId.length > 200) return 'contact has no valid conversation id';
  if (!contact.contactId) return 'contact has no contact id';
  if (contact.kind === ContactKind.CONTACT_KIND_CALLBACK_REQUEST && !isE164(callbackNumberOf(contact)))
    return 'callback request has no valid callback-number: it must be an E.164 number such as +33612345678';
  return undefined;
}

/** The number to call back: the one the caller gave, or the one they called from. */
export function callbackNumberOf(contact: ContactReceived): string {
  return contact.channelMetadata['callback-number'] ?? contact.sender?.value ?? '';
}
