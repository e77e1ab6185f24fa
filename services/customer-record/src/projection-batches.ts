// The projection a fetched batch at a time: the records of a batch are projected one after
// another, as by Projection, but on a staged copy of the documents they touch (read up front in a
// few `$in` reads) and written in one bulk write per collection (store/staged.ts). A contact
// whose verified identity may merge two customers is projected on its own, on the store itself.
import type { Logger } from '#libs/observability';
import type { ContactReceived, ConversationEvent } from '#libs/proto';
import { contactIdentities, InvalidSenderError } from './claims';
import { entryFromContact, entryFromConversationEvent } from './history';
import { identityKey } from '#libs/contact';
import { Projection } from './projection';
import type { CustomerStore } from './store';
import type { StagedStore } from './store/stage';

export class BatchProjection {
  constructor(
    private readonly store: CustomerStore,
    /** The same projection on the store itself, for contacts that may merge. */
    private readonly one: Projection,
    private readonly logger: Logger,
    private readonly defaultCountry: string,
  ) {}

  async onContacts(contacts: ContactReceived[]): Promise<void> {
    let run: ContactReceived[] = [];
    for (const c of contacts) {
      if (!this.mayMerge(c)) {
        run.push(c);
        continue;
      }
      await this.staged(run);
      run = [];
      await this.one.onContact(c);
    }
    await this.staged(run);
  }

  async onConversationEvents(events: ConversationEvent[]): Promise<void> {
    if (!events.length) return;
    await this.store.staged(async (stage) => {
      const conversationIds = events.map((e) => e.conversationId);
      await Promise.all([
        stage.conversations.prefetch(conversationIds),
        stage.pending.prefetch(conversationIds),
        stage.history.prefetch(events.flatMap((e) => entryFromConversationEvent(e, '')?.entry._id ?? [])),
      ]);
      await stage.customers.prefetch(stage.conversations.known().map((c) => c.customerId));
      const projection = this.on(stage);
      for (const e of events) await projection.onConversationEvent(e);
    });
  }

  private async staged(contacts: ContactReceived[]): Promise<void> {
    if (!contacts.length) return;
    await this.store.staged(async (stage) => {
      const conversationIds = contacts.map((c) => c.conversationId);
      await Promise.all([
        stage.identities.prefetch(contacts.flatMap((c) => this.senderKey(c) ?? [])),
        stage.conversations.prefetch(conversationIds),
        stage.pending.prefetch(conversationIds),
        stage.history.prefetch(contacts.map((c) => entryFromContact(c, '')._id)),
      ]);
      await stage.customers.prefetch([...stage.identities.known(), ...stage.conversations.known()].map((d) => d.customerId));
      const projection = this.on(stage);
      for (const c of contacts) await projection.onContact(c);
    });
  }

  private on(stage: StagedStore): Projection {
    return new Projection(stage, this.logger, this.defaultCountry);
  }

  /**
   * A contact with an identity the channel verified may join or merge customers; one made for
   * someone reads intermediaries and other customers' identities. Both go on their own.
   */
  private mayMerge(c: ContactReceived): boolean {
    return c.onBehalfOf || this.identitiesOf(c)?.hints.length ? true : false;
  }

  private senderKey(c: ContactReceived): string | undefined {
    const sender = this.identitiesOf(c)?.sender;
    return sender && identityKey(sender);
  }

  /** Undefined for a sender that is not valid: projecting the contact says why. */
  private identitiesOf(c: ContactReceived): ReturnType<typeof contactIdentities> | undefined {
    try {
      return contactIdentities(c, this.defaultCountry);
    } catch (err) {
      if (err instanceof InvalidSenderError) return undefined;
      throw err;
    }
  }
}
