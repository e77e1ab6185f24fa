// What each request with an Idempotency-Key on a conversation route was: its route, the
// conversation and the body's fingerprint, claimed by an insert (the local store may lose
// concurrent updates of a document, never a unique insert). The same key with another body or
// on another conversation is refused (409); the same request again goes on to routing, which
// answers a request id it has seen with its first result and does nothing again.
import type { Collection, Db } from 'mongodb';
import { InsertBatcher } from '#libs/store';
import { IdempotencyKeyReusedError } from './problems';

interface RequestClaim {
  /** The request id (routing's too): a digest of the key's id and the Idempotency-Key. */
  _id: string;
  route: string;
  conversationId: string;
  fingerprint: string;
  at: Date;
}

export class RequestClaims {
  private readonly claims: Collection<RequestClaim>;
  private readonly inserts: InsertBatcher<RequestClaim>;

  constructor(db: Db) {
    this.claims = db.collection('api_requests');
    this.inserts = new InsertBatcher(this.claims);
  }

  /** Claims the request id for this request (`first`), or checks that an earlier claim was the same request (`again`). */
  async claim(requestId: string, request: { route: string; conversationId: string; fingerprint: string }, at: Date): Promise<'first' | 'again'> {
    if ((await this.inserts.insert({ _id: requestId, ...request, at })) === 'inserted') return 'first';
    const earlier = await this.claims.findOne({ _id: requestId });
    if (!earlier) throw new Error(`request ${requestId} was claimed but cannot be read`);
    if (earlier.route !== request.route || earlier.conversationId !== request.conversationId || earlier.fingerprint !== request.fingerprint)
      throw new IdempotencyKeyReusedError();
    return 'again';
  }
}
