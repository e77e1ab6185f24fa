// The dead-letter routes: the list with who replayed what, and the audited replay (ops only).
import type http from 'node:http';
import type { IHeaders } from 'kafkajs';
import type { Logger } from '#libs/observability';
import { ForbiddenError, NotFoundError, sendJson, type StaffSignIn } from '#libs/web';
import type { ReplayAudit } from './audit';
import { deadLetterForRole, replayPlan, shapeDeadLetter } from './dead-letters';
import type { DeadLetterStore } from './kafka-io';
import { changingSession, readingSession } from './sign-in';

export interface DeadLetterRouteDeps {
  signIn: StaffSignIn;
  deadLetters: DeadLetterStore;
  audit: ReplayAudit;
  /** Writes the original record back to its topic. */
  publishRaw(topic: string, key: string | null, value: Buffer, headers: IHeaders): Promise<void>;
  logger: Logger;
}

export async function listDeadLetters(deps: DeadLetterRouteDeps, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const session = await readingSession(deps.signIn, req);
  const replays = new Map<string, { by: string; at: string }[]>();
  for (const e of await deps.audit.recent()) {
    if (e.outcome !== 'replayed') continue;
    const k = `${e.deadLetter.partition}:${e.deadLetter.offset}`;
    replays.set(k, [{ by: e.by, at: e.at.toISOString() }, ...(replays.get(k) ?? [])]);
  }
  const records = deps.deadLetters
    .list()
    .map((raw) => ({ ...deadLetterForRole(shapeDeadLetter(raw), session.consoleRole), replays: replays.get(`${raw.partition}:${raw.offset}`) ?? [] }));
  sendJson(res, 200, { count: deps.deadLetters.count, records, canReplay: session.consoleRole === 'ops' });
}

/** Writes the audit entry first, so a replay that fails half-way is still on record. */
export async function replayDeadLetter(
  deps: DeadLetterRouteDeps,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  partition: number,
  offset: string,
): Promise<void> {
  const session = await changingSession(deps.signIn, req);
  if (session.consoleRole !== 'ops') throw new ForbiddenError('replaying dead letters is for the ops role');
  const raw = deps.deadLetters.get(partition, offset);
  if (!raw) throw new NotFoundError(`no dead letter at partition ${partition} offset ${offset}`);
  const plan = replayPlan(raw);
  const view = shapeDeadLetter(raw);
  const auditId = await deps.audit.begin({
    by: session.staffId,
    role: session.role,
    deadLetter: { partition, offset },
    original: view.original,
    key: view.key,
    ceId: view.ceId,
    sha256: view.sha256,
  });
  try {
    await deps.publishRaw(plan.topic, plan.key, plan.value, plan.headers);
  } catch (err) {
    await deps.audit.complete(auditId, 'failed', err instanceof Error ? err.message : String(err));
    throw err;
  }
  await deps.audit.complete(auditId, 'replayed');
  deps.logger.info({ staffId: session.staffId, dlqPartition: partition, dlqOffset: offset, topic: plan.topic }, 'dead letter replayed');
  sendJson(res, 200, { replayedTo: plan.topic, auditId });
}
