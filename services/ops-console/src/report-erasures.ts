// What the report fold knows of erasures, and the names it holds instead of ids that could name
// a customer. A pseudonym is a keyed hash (SHA-256 of a secret of this process's own and the
// value, 128 bits kept): the secret is made at start and never written anywhere, so the later
// events of an erased conversation find it again under the same name, and no name can be turned
// back into the id or matched against anything outside the process. Every event id is hashed, so
// the one-shot hash, four times as fast as an HMAC object per call, keeps the fold's rebuild fast;
// the names never leave the process, so an HMAC's guard against length extension buys nothing.
import { hash, randomBytes } from 'node:crypto';
import type { ErasureSet, SubjectKind } from '#libs/erasure';

export class Pseudonyms {
  private readonly secret = randomBytes(32).toString('hex');

  of(kind: 'event' | 'conversation' | 'customer', value: string): string {
    return hash('sha256', `${this.secret}${kind}:${value}`, 'base64url').slice(0, 22);
  }
}

/** The erasures the fold was last given (a set that only grows); a subject is erased as of the latest erasure it knows. */
export class KnownErasures {
  private set: ErasureSet | undefined;
  /** During a pass: when each customer looked up was erased, so each is hashed once per pass. */
  private customers: Map<string, number | undefined> | undefined;

  use(set: ErasureSet): void {
    this.set = set;
  }

  /** Some erasure is known: until then a record costs no hashing beyond its event id's. */
  get any(): boolean {
    return (this.set?.size ?? 0) > 0;
  }

  /** The subject was erased at or after `at`. */
  since(kind: SubjectKind, value: string, at: number): boolean {
    const erasedAt = kind === 'customer' ? this.customerErasedAt(value) : this.erasedAt(kind, value);
    return erasedAt !== undefined && at <= erasedAt;
  }

  /** Runs a pass over everything the fold keeps, each customer looked up once. */
  pass<T>(run: () => T): T {
    this.customers = new Map();
    try {
      return run();
    } finally {
      this.customers = undefined;
    }
  }

  private customerErasedAt(customerId: string): number | undefined {
    const memo = this.customers;
    if (!memo) return this.erasedAt('customer', customerId);
    if (!memo.has(customerId)) memo.set(customerId, this.erasedAt('customer', customerId));
    return memo.get(customerId);
  }

  private erasedAt(kind: SubjectKind, value: string): number | undefined {
    return this.set?.erasedAtOf(kind, value);
  }
}
