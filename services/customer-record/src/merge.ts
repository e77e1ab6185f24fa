// Merge planning: what moves from the source customer to the target, recorded so that a
// supervisor can undo it exactly.
import { FailedPreconditionError } from '#libs/service/grpc-errors';
import type { StoredFlag } from './flags';

export interface MergePlan {
  targetId: string;
  sourceId: string;
  /** Identity values (kind|value keys) that move to the target and back on unmerge. */
  identityKeys: string[];
  conversationIds: string[];
  conversationStarts: Date[];
  /** The source's own flag state, restored on unmerge. */
  sourceFlags: { regularRule: StoredFlag | null; regularOverride: StoredFlag | null };
}

/** A merge that cannot be made: of a customer into itself, or of one already merged away. */
export class MergeRefusedError extends FailedPreconditionError {
  constructor(message: string) {
    super(message);
    this.name = 'MergeRefusedError';
  }
}

export function planMerge(
  target: { _id: string; mergedInto?: string | null },
  source: { _id: string; mergedInto?: string | null; regularRule?: StoredFlag | null; regularOverride?: StoredFlag | null },
  sourceIdentityKeys: string[],
  sourceConversations: { _id: string; startedAt: Date }[],
): MergePlan {
  if (target._id === source._id) throw new MergeRefusedError('a customer cannot be merged into itself');
  if (target.mergedInto) throw new MergeRefusedError(`customer ${target._id} was itself merged into ${target.mergedInto}; merge into that one`);
  if (source.mergedInto) throw new MergeRefusedError(`customer ${source._id} was already merged into ${source.mergedInto}`);
  return {
    targetId: target._id,
    sourceId: source._id,
    identityKeys: [...sourceIdentityKeys].sort(),
    conversationIds: sourceConversations.map((c) => c._id).sort(),
    conversationStarts: sourceConversations.map((c) => c.startedAt),
    sourceFlags: { regularRule: source.regularRule ?? null, regularOverride: source.regularOverride ?? null },
  };
}

/** The target's supervisor override wins; otherwise the stronger ("on") of the two. */
export function combineOverrides(target: StoredFlag | null | undefined, source: StoredFlag | null | undefined): StoredFlag | null {
  return target ?? source ?? null;
}
