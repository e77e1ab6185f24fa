// What the gRPC calls are answered with, and the shape of one call's handler.
import type { Caller, TokenVerifier } from '#libs/auth';
import type { Logger } from '#libs/observability';
import type { GetCustomerContextResponse } from '#libs/proto';
import type { RateLimiter } from '#libs/rate-limit';
import type { AuditLog } from '../audit';
import type { ContextCache } from '../cache';
import type { ErasureTopic } from '../erasure-topic';
import type { SqliteConversationIndex } from '../search/sqlite-index';
import type { CustomerErasure } from '../store/erasure';
import type { ConversationIndex } from '../search/conversation-index';
import type { MergeAnnouncements } from '../merge-announcements';
import type { ReadGuard } from '../read-guard';
import type { CustomerStore } from '../store';

export interface ApiDeps extends Pick<CustomerStore, 'directory' | 'merging' | 'flagSettings' | 'pages' | 'intermediaries'> {
  audit: AuditLog;
  /** Publishes CustomerMerged once a merge is stored. */
  announcements: Pick<MergeAnnouncements, 'announce'>;
  guard: ReadGuard;
  cache: ContextCache<GetCustomerContextResponse>;
  verify: TokenVerifier;
  logger: Logger;
  defaultCountry: string;
  windowDays: number;
  /** Per-person call budget: a leaked agent token cannot page through every customer. */
  callerLimit: RateLimiter;
  /** The conversation search index, and how long after a conversation stopped being theirs an agent still finds it. */
  search: { index: Pick<ConversationIndex, 'search'>; windowMs: number };
  /** Data-protection requests: the store's part, the erasure topic, the search index, and the key subjects are hashed with. */
  privacy: {
    erasure: CustomerErasure;
    topic: Pick<ErasureTopic, 'publish'>;
    index: Pick<SqliteConversationIndex, 'forget' | 'customersNamed'>;
    secret: string;
  };
}

/** One call, run once its caller is authorised for it. */
export type Handler<Req, Res> = (deps: ApiDeps, req: Req, caller: Caller) => Promise<Res>;
