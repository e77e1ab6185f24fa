// How an erased subject is named on cc.erasure.v1, and the set of erasures a process knows (pure).
// A subject is HMAC-SHA256 of `<kind>:<value>` under the erasure key, so the compacted topic that
// outlives the data never holds the data, and a service holding a record computes the keys of
// its subjects to find out whether it must drop it.
import { createHmac } from 'node:crypto';
import { identityKey, InvalidIdentityError, normaliseIdentity } from '#libs/contact';
import type { Identity } from '#libs/proto';

export type SubjectKind = 'customer' | 'identity' | 'conversation';

/** HMAC-SHA256 of `<kind>:<value>` under the erasure key, hex: a subject the topic can name without holding it. */
export function subjectKey(secret: string, kind: SubjectKind, value: string): string {
  return createHmac('sha256', secret).update(`${kind}:${value}`).digest('hex');
}

/** One record of cc.erasure.v1 as the readers use it. */
export interface ErasureNotice {
  subjectKey: string;
  erasedAt: Date;
}

/** Erasures by subject key, each at the latest time it was erased. */
export class ErasureSet {
  private readonly erasedAt = new Map<string, number>();

  constructor(
    private readonly secret: string,
    private readonly defaultCountry = 'US',
  ) {}

  static of(secret: string, notices: readonly ErasureNotice[], defaultCountry = 'US'): ErasureSet {
    const set = new ErasureSet(secret, defaultCountry);
    for (const n of notices) set.add(n.subjectKey, n.erasedAt);
    return set;
  }

  get size(): number {
    return this.erasedAt.size;
  }

  /** Keeps the latest erasure of a subject: a customer erased twice drops everything before the second. */
  add(key: string, at: Date): void {
    const ms = at.getTime();
    if ((this.erasedAt.get(key) ?? -Infinity) < ms) this.erasedAt.set(key, ms);
  }

  /** When the subject was last erased (ms), or undefined. */
  erasedAtOf(kind: SubjectKind, value: string): number | undefined {
    if (this.erasedAt.size === 0 || !value) return undefined;
    return this.erasedAt.get(subjectKey(this.secret, kind, value));
  }

  /** The subject was erased at or after `at` (ms): something it holds from then or before goes. */
  erasedSince(kind: SubjectKind, value: string, at: number): boolean {
    const erased = this.erasedAtOf(kind, value);
    return erased !== undefined && at <= erased;
  }

  /** When an identity (in wire form) was last erased; undefined for one that is not erased or not an identity. */
  identityErasedAt(identity: Identity): number | undefined {
    if (this.erasedAt.size === 0) return undefined;
    const key = this.identityKeyOf(identity);
    return key === null ? undefined : this.erasedAtOf('identity', key);
  }

  /** The identity's key as customer-record hashes it, or null for a value that is not an identity. */
  identityKeyOf(identity: Identity): string | null {
    try {
      return identityKey(normaliseIdentity(identity, this.defaultCountry));
    } catch (err) {
      // Something that is not an identity was never erased as one.
      if (err instanceof InvalidIdentityError) return null;
      throw err;
    }
  }
}
