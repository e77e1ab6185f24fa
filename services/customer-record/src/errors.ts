// A write refused by a unique index: the entry or claim is already stored. The typed failures
// of a call are in libs/service/grpc-errors.ts.
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && ((err as { code?: number }).code === 11000 || /duplicate key/i.test(String((err as Error).message)));
}
