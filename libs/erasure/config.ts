// The erasure key of a service that drops erased customers' data from a store of its own.
import { z } from 'zod';

export const followErasuresConfig = {
  /**
   * customer-record's ERASURE_KEY: the key of the hashes that name erased customers, identities
   * and conversations on cc.erasure.v1, so this service can find and drop what it keeps of them.
   * Unset, erasures are not followed (the service says so at start).
   */
  ERASURE_KEY: z.string().min(32, 'must be at least 32 characters (the same key as customer-record’s)').optional(),
};
