// What makes an inbound contact impossible to route, checked before anything is decided, so a
// batch of contacts can be refused whole before one of them changes the state.
import type { ContactReceived } from '#libs/proto';
import { channelName } from '#libs/contact';

/** Why the contact can never be routed, or undefined when it can. */
export function contactProblem(contact: ContactReceived): string | undefined {
  if (!channelName(contact.channel)) return 'contact has no known channel';
  if (!contact.conversationId || contact.conversationId.length > 200) return 'contact has no valid conversation id';
  if (!contact.contactId) return 'contact has no contact id';
  return undefined;
}
