// Projects the contact and conversation topics into customers, conversations and history.
// Every write is keyed by the event's id, so replaying the topics changes nothing.
import { senderMayActForOthers } from '#libs/contact';
import { InvalidEventError } from '#libs/kafka';
import type { Logger } from '#libs/observability';
import { ContactKind, type ContactReceived, type ConversationEvent } from '#libs/proto';
import { entryFromContact, entryFromConversationEvent } from './history';
import { contactIdentities, InvalidSenderError } from './claims';
import { InvalidIdentityError, type NormalisedIdentity } from '#libs/contact';
import type { OnBehalfRecord } from './mandates';
import { claimedCustomer, judgeContact } from './on-behalf';
import type { CustomerStore } from './store';

/** The parts of the store the projection writes through. */
type ProjectionStore = Pick<CustomerStore, 'directory' | 'merging' | 'conversationLog'>;

export class Projection {
  constructor(
    private readonly store: ProjectionStore,
    private readonly logger: Logger,
    private readonly defaultCountry: string,
    /** Who the contact's sender may speak for; read only. */
    private readonly intermediaries: CustomerStore['intermediaries'] | null = null,
  ) {}

  async onContact(c: ContactReceived): Promise<void> {
    if (!c.contactId || !c.conversationId) throw new InvalidEventError('contact has no contact_id or conversation_id');
    let identities;
    try {
      identities = contactIdentities(c, this.defaultCountry);
    } catch (err) {
      if (err instanceof InvalidSenderError) throw new InvalidEventError(`contact ${c.contactId}: ${err.message}`);
      throw err;
    }
    const { sender, hints, claims } = identities;
    for (const { field, problem } of identities.ignored) this.logger.warn({ contactId: c.contactId, field, problem }, 'identity of a contact ignored');
    const receivedAt = c.receivedAt ?? new Date(0);
    const onBehalf = await this.onBehalf(c, sender, receivedAt);
    // Made for a customer under a mandate: it is that customer's contact. The intermediary is no
    // customer, so its sender, hints and claims are not resolved into a record of its own.
    const customerId = onBehalf?.customerId ?? (await this.senderCustomer(sender, hints, c.senderDisplayName));
    if (!onBehalf?.customerId) {
      // Identities the channel verified (a chat visitor's email proven by a code) join the
      // sender's customer; one held by another customer merges that customer in. What the sender
      // only typed is kept as a claim on the sender's own customer and never looked up.
      for (const n of hints) await this.store.merging.link(customerId, n, { id: 'projection', role: 'service' });
      if (claims.length) await this.store.directory.addClaims(customerId, claims);
    }
    const customer = await this.store.directory.liveCustomer(await this.store.directory.getCustomer(customerId));
    const made = onBehalf ? { onBehalf: onBehalf.record } : {};
    if (c.kind === ContactKind.CONTACT_KIND_AUTOMATED) {
      // Recorded on the customer, but it never opens a conversation.
      const existing = await this.store.conversationLog.findConversation(c.conversationId);
      await this.store.conversationLog.recordEntry({ ...entryFromContact(c, existing?.customerId ?? customer._id), ...made }, { countsAsMessage: false });
      return;
    }
    const { conversation } = await this.store.conversationLog.openConversation(c.conversationId, customer._id, c.channel, c.subject, receivedAt);
    await this.store.conversationLog.recordEntry({ ...entryFromContact(c, conversation.customerId), ...made }, { countsAsMessage: true });
  }

  /**
   * A contact that names a customer it is made for: verified (that customer's id, with the
   * authority) or an unverified claim, recorded on the sender's own history. Judged at the
   * contact's time, so a replay after the mandate ended reads the same.
   */
  private async onBehalf(c: ContactReceived, sender: NormalisedIdentity, at: Date): Promise<{ record: OnBehalfRecord; customerId: string | null } | null> {
    if (!c.onBehalfOf || !this.intermediaries) return null;
    let claimedFor: NormalisedIdentity;
    try {
      claimedFor = claimedCustomer(c.onBehalfOf, this.defaultCountry);
    } catch (err) {
      if (!(err instanceof InvalidIdentityError)) throw err;
      this.logger.warn({ contactId: c.contactId, field: 'on_behalf_of', problem: err.message }, 'identity of a contact ignored');
      return null;
    }
    return judgeContact({ intermediaries: this.intermediaries, directory: this.store.directory }, sender, claimedFor, at, senderMayActForOthers(c));
  }

  /**
   * A new sender with a verified identity we already know (a chat visitor who proved a known
   * email) joins that customer instead of starting a new record. Claims never get here.
   */
  private async senderCustomer(sender: NormalisedIdentity, hints: NormalisedIdentity[], displayName: string): Promise<string> {
    const known = await this.store.directory.findCustomerId(sender);
    // An identity claimed by a resolve that died before writing its customer: resolve again, which completes it.
    if (known && (await this.store.directory.hasCustomer(known))) return known;
    for (const hint of hints) {
      const holder = await this.store.directory.findCustomerId(hint);
      if (holder) return (await this.store.merging.link(holder, sender, { id: 'projection', role: 'service' })).customer._id;
    }
    return (await this.store.directory.resolve(sender, displayName)).customer._id;
  }

  async onConversationEvent(e: ConversationEvent): Promise<void> {
    if (!e.eventId || !e.conversationId) throw new InvalidEventError('conversation event has no event_id or conversation_id');
    const mapped = entryFromConversationEvent(e, '');
    if (!mapped) return;
    const conversation = await this.store.conversationLog.findConversation(e.conversationId);
    // Before the contact is projected the conversation is unknown: the entry waits with no
    // customer and is attached when the conversation opens.
    mapped.entry.customerId = conversation?.customerId ?? '';
    await this.store.conversationLog.recordEntry(mapped.entry, mapped.change);
  }
}
