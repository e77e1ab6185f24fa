// Canned answers in the store: one collection of the desk's, and an audit collection for the
// shared ones. The local store (FerretDB) sends only `_id` look-ups to an index; every other
// filter reads the whole collection. Templates are few (hundreds, capped per owner below), so a
// scan of this one collection is cheap, and every change goes by `_id`.
import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { Role } from '#libs/auth';
import { ForbiddenError, HttpError, NotFoundError } from '#libs/web';
import { changeRefusal, maySee, type CannedChannel, type CannedScope } from './canned';

export interface CannedAnswer {
  _id: string;
  scope: CannedScope;
  /** The owner's staff id for a personal answer; empty for a shared one. */
  owner: string;
  name: string;
  text: string;
  channels: CannedChannel[];
  /** Raised by every change: an edit made on an older version is refused, not silently lost. */
  version: number;
  createdBy: string;
  createdAt: Date;
  updatedBy: string;
  updatedAt: Date;
}

/** One change to a shared answer: who, when, what it was called. The text itself is in the answer. */
export interface CannedAudit {
  _id: string;
  answerId: string;
  action: 'created' | 'updated' | 'deleted';
  by: string;
  at: Date;
  name: string;
  channels: CannedChannel[];
}

export interface CannedContent {
  name: string;
  text: string;
  channels: CannedChannel[];
}

interface Actor {
  id: string;
  role: Role;
}

/** 409: the answer was changed by someone else since it was read. */
class CannedConflictError extends HttpError {
  constructor(message: string) {
    super(409, message);
  }
}

export interface CannedStoreLimits {
  /** Personal answers one person may keep. */
  perPerson: number;
  /** Shared answers in all. */
  shared: number;
}

export class CannedAnswerStore {
  private readonly answers: Collection<CannedAnswer>;
  private readonly audit: Collection<CannedAudit>;

  constructor(
    db: Db,
    readonly limits: CannedStoreLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.answers = db.collection<CannedAnswer>('desk_canned_answers');
    this.audit = db.collection<CannedAudit>('desk_canned_audit');
  }

  /** The shared answers and the actor's own, by name. */
  async visibleTo(actor: Actor): Promise<CannedAnswer[]> {
    const found = await this.answers
      .find({ $or: [{ scope: 'shared' }, { scope: 'personal', owner: actor.id }] })
      .limit(this.limits.shared + this.limits.perPerson)
      .toArray();
    return found.filter((a) => maySee(actor, a)).sort((a, b) => a.name.localeCompare(b.name) || a._id.localeCompare(b._id));
  }

  async create(actor: Actor, scope: CannedScope, content: CannedContent): Promise<CannedAnswer> {
    const owner = scope === 'personal' ? actor.id : '';
    const refusal = changeRefusal(actor, { scope, owner });
    if (refusal) throw new ForbiddenError(refusal);
    // Counted before the insert: two saves at the same moment may pass one over the cap, which is harmless.
    const held = await this.answers.countDocuments(scope === 'shared' ? { scope } : { scope, owner });
    const cap = scope === 'shared' ? this.limits.shared : this.limits.perPerson;
    if (held >= cap)
      throw new CannedConflictError(
        scope === 'shared' ? `there are already ${cap} shared canned answers; delete one first` : `you already keep ${cap} canned answers; delete one first`,
      );
    const at = new Date(this.now());
    const doc: CannedAnswer = {
      _id: `ca-${randomUUID()}`,
      scope,
      owner,
      ...content,
      version: 1,
      createdBy: actor.id,
      createdAt: at,
      updatedBy: actor.id,
      updatedAt: at,
    };
    await this.answers.insertOne(doc);
    await this.audited(doc, 'created', actor, at);
    return doc;
  }

  async update(actor: Actor, id: string, version: number, content: CannedContent): Promise<CannedAnswer> {
    const current = await this.changeable(actor, id);
    if (current.version !== version) throw new CannedConflictError(`${current.updatedBy} changed this canned answer since you opened it; open it again`);
    const at = new Date(this.now());
    const next: CannedAnswer = { ...current, ...content, version: version + 1, updatedBy: actor.id, updatedAt: at };
    // By `_id` and version: an edit that lost the race changes nothing.
    const { matchedCount } = await this.answers.replaceOne({ _id: id, version }, next);
    if (matchedCount === 0) throw new CannedConflictError('someone changed this canned answer at the same moment; open it again');
    await this.audited(next, 'updated', actor, at);
    return next;
  }

  async remove(actor: Actor, id: string): Promise<void> {
    const current = await this.changeable(actor, id);
    await this.answers.deleteOne({ _id: id });
    await this.audited(current, 'deleted', actor, new Date(this.now()));
  }

  /** The latest changes to shared answers, newest first. */
  async auditTrail(limit = 100): Promise<CannedAudit[]> {
    return this.audit.find({}).sort({ at: -1 }).limit(limit).toArray();
  }

  /** The answer, if the actor may change it: someone else's personal answer is not found, a shared one refused. */
  private async changeable(actor: Actor, id: string): Promise<CannedAnswer> {
    const current = await this.answers.findOne({ _id: id });
    if (!current || !maySee(actor, current)) throw new NotFoundError('no such canned answer');
    const refusal = changeRefusal(actor, current);
    if (refusal) throw new ForbiddenError(refusal);
    return current;
  }

  private async audited(a: CannedAnswer, action: CannedAudit['action'], actor: Actor, at: Date): Promise<void> {
    if (a.scope !== 'shared') return;
    await this.audit.insertOne({ _id: `cau-${randomUUID()}`, answerId: a._id, action, by: actor.id, at, name: a.name, channels: a.channels });
  }
}
