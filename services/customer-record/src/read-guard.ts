// Decides, before any customer data is read, which customer this caller may read for this
// request: the rules are in access.ts, this module fetches what they judge. An agent's desk may
// ask a moment before the offer (or the conversation's contact) is projected, so a refusal that
// catching up could cure is retried on each projected change until `catchUpMs` has passed.
import type { Caller } from '#libs/auth';
import { InvalidArgumentError, NotFoundError } from '#libs/service/grpc-errors';
import { checkReadRequest, decidePersonRead, ReadRefusedError } from './access';
import type { ConversationAccessStore } from './conversation-access';
import type { CustomerStore } from './store';

export interface ReadGuardOptions {
  /** How long after a conversation stopped being theirs a person may still read its customer. */
  windowMs: number;
  /** How long a read waits for the projection to catch up before it is refused. */
  catchUpMs: number;
}

export interface ReadScope {
  conversationId: string;
  reason: string;
}

/** Returns the customer id the caller named, or null when they named none. */
export type AskedCustomer = () => Promise<string | null>;

export class ReadGuard {
  constructor(
    private readonly store: Pick<CustomerStore, 'directory' | 'conversationLog'>,
    private readonly access: ConversationAccessStore,
    private readonly options: ReadGuardOptions,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The live customer the caller may read; throws ReadRefusedError, ReadRequestError or NotFoundError. */
  async authorise(caller: Caller, scope: ReadScope, asked: AskedCustomer): Promise<string> {
    checkReadRequest({ caller, ...scope });
    if (caller.role === 'agent' || caller.role === 'expert') return this.personRead(caller, scope.conversationId, asked);
    const named = await asked();
    if (named) return this.live(named);
    if (!scope.conversationId) throw new InvalidArgumentError('either customer_id or identity is required');
    const ofConversation = await this.conversationCustomer(scope.conversationId);
    if (!ofConversation) throw new NotFoundError(`conversation ${scope.conversationId} has no customer on record`);
    return ofConversation;
  }

  private async personRead(caller: Caller, conversationId: string, asked: AskedCustomer): Promise<string> {
    const deadline = Date.now() + this.options.catchUpMs;
    for (;;) {
      try {
        return await this.personReadOnce(caller.id, conversationId, asked);
      } catch (err) {
        const left = deadline - Date.now();
        const mayCatchUp = (err instanceof ReadRefusedError && err.mayCatchUp) || err instanceof NotFoundError;
        if (!mayCatchUp || left <= 0) throw err;
        // Woken by the projection at once; the timer is only a fallback.
        await this.access.nextChange(conversationId, Math.min(left, 250));
      }
    }
  }

  private async personReadOnce(personId: string, conversationId: string, asked: AskedCustomer): Promise<string> {
    const [access, conversationCustomerId] = await Promise.all([this.access.find(conversationId), this.conversationCustomer(conversationId)]);
    const base = { personId, conversationId, access, conversationCustomerId, now: this.now(), windowMs: this.options.windowMs };
    // Judge the conversation first, so a refused caller learns nothing about the customer asked for.
    decidePersonRead({ ...base, askedCustomerId: null });
    const named = await asked();
    return decidePersonRead({ ...base, askedCustomerId: named ? await this.live(named) : null });
  }

  private async conversationCustomer(conversationId: string): Promise<string | null> {
    const conversation = await this.store.conversationLog.findConversation(conversationId);
    if (!conversation?.customerId) return null;
    return this.live(conversation.customerId);
  }

  private async live(customerId: string): Promise<string> {
    return (await this.store.directory.liveCustomer(await this.store.directory.getCustomer(customerId)))._id;
  }
}
