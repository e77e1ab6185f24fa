// Gives each entry of a conversation its number, exact and without gaps across instances, on a
// store whose updates are not atomic: a number is claimed by inserting `<conversation>#<n>`
// under the unique `_id`, so exactly one writer gets each number, whichever instance it runs on.
import type { Collection } from 'mongodb';
import { InsertBatcher } from '#libs/store';

export interface NumberDoc {
  /** `<conversation>#<n>` for a number, `<conversation>#opened` for the conversation's opening message. */
  _id: string;
  conversationId: string;
  /** The message that holds it (`MessageDoc._id`). */
  key: string;
}

/** How many conversations an instance remembers the last number of; beyond it, the oldest is re-learnt. */
const REMEMBERED = 50_000;

export class ConversationNumbers {
  private readonly inserts: InsertBatcher<NumberDoc>;
  /** Last number known to be taken, per conversation: a lower bound, since other instances number too. */
  private readonly last = new Map<string, number>();
  /** The opening message of conversations where it is known, so later messages skip that claim. */
  private readonly openers = new Map<string, string>();
  /** Claims of one conversation on this instance go one after the other (see `claim`). */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly numbers: Collection<NumberDoc>) {
    this.inserts = new InsertBatcher(numbers);
  }

  /**
   * Takes the conversation's next number for `key`. A claim is only ever made for the number
   * after one known to be taken, so the taken numbers are always 1..last with nothing above:
   * that is what lets `lastTaken` find the end by `_id` look-ups alone. Claims of one
   * conversation on this instance are queued so they never race each other.
   */
  claim(conversationId: string, key: string): Promise<number> {
    const previous = this.queues.get(conversationId) ?? Promise.resolve();
    const mine = previous.then(
      () => this.claimNow(conversationId, key),
      () => this.claimNow(conversationId, key),
    );
    this.queues.set(conversationId, mine);
    const release = () => {
      if (this.queues.get(conversationId) === mine) this.queues.delete(conversationId);
    };
    mine.then(release, release);
    return mine;
  }

  private async claimNow(conversationId: string, key: string): Promise<number> {
    let last = this.last.get(conversationId) ?? (await this.lastTaken(conversationId, 0));
    for (;;) {
      const n = last + 1;
      if ((await this.inserts.insert({ _id: numberId(conversationId, n), conversationId, key })) === 'inserted') {
        this.remember(conversationId, n);
        return n;
      }
      // Taken by another instance, or by this very message in an attempt whose answer was lost.
      const holder = await this.numbers.findOne({ _id: numberId(conversationId, n) }, { projection: { key: 1 } });
      if (holder?.key === key) {
        this.remember(conversationId, n);
        return n;
      }
      last = await this.lastTaken(conversationId, n);
    }
  }

  /** The conversation's last number given so far (0 for none), read from the store. */
  async lastNumber(conversationId: string): Promise<number> {
    const n = await this.lastTaken(conversationId, this.last.get(conversationId) ?? 0);
    this.remember(conversationId, n);
    return n;
  }

  /**
   * Whether `key` is the conversation's opening visitor message: the first to claim
   * `<conversation>#opened` is, and stays so when it is sent again.
   */
  async opens(conversationId: string, key: string): Promise<boolean> {
    const known = this.openers.get(conversationId);
    if (known !== undefined) return known === key;
    const id = `${conversationId}#opened`;
    let opener = key;
    if ((await this.inserts.insert({ _id: id, conversationId, key })) === 'duplicate') {
      const stored = await this.numbers.findOne({ _id: id }, { projection: { key: 1 } });
      if (!stored) throw new Error(`conversation ${conversationId}: its opening claim was refused as taken but cannot be read`);
      opener = stored.key;
    }
    this.rememberOpener(conversationId, opener);
    return opener === key;
  }

  /** Whether a visitor message has opened the conversation (it is in the queue, or was). */
  async isOpened(conversationId: string): Promise<boolean> {
    if (this.openers.has(conversationId)) return true;
    const stored = await this.numbers.findOne({ _id: `${conversationId}#opened` }, { projection: { key: 1 } });
    if (stored) this.rememberOpener(conversationId, stored.key);
    return stored !== null;
  }

  /** Last taken number at or above `atLeast` (known taken, or 0): doubling steps, then halving. */
  private async lastTaken(conversationId: string, atLeast: number): Promise<number> {
    const taken = async (n: number) => (await this.numbers.findOne({ _id: numberId(conversationId, n) }, { projection: { _id: 1 } })) !== null;
    let low = atLeast;
    let step = 1;
    while (await taken(low + step)) {
      low += step;
      step *= 2;
    }
    let high = low + step;
    while (high - low > 1) {
      const mid = Math.floor((low + high) / 2);
      if (await taken(mid)) low = mid;
      else high = mid;
    }
    return low;
  }

  private remember(conversationId: string, n: number): void {
    if ((this.last.get(conversationId) ?? 0) >= n) return;
    this.last.delete(conversationId);
    this.last.set(conversationId, n);
    if (this.last.size > REMEMBERED) this.last.delete(this.last.keys().next().value!);
  }

  private rememberOpener(conversationId: string, key: string): void {
    this.openers.set(conversationId, key);
    if (this.openers.size > REMEMBERED) this.openers.delete(this.openers.keys().next().value!);
  }
}

function numberId(conversationId: string, n: number): string {
  return `${conversationId}#${n}`;
}
