// The staff roster (agents, experts, supervisors, ops) and browser sessions, shared by the two
// web applications: agent-desk signs people in to work, ops-console signs in ops and supervisors.
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Collection, Db } from 'mongodb';
import { z } from 'zod';
import { ROLES, type Role } from '../auth';

type ScryptOptions = { N: number; r: number; p: number; maxmem: number };
const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: ScryptOptions) => Promise<Buffer>;
// N=2^15, r=8 costs 32 MiB and tens of milliseconds per hash: slow for guessing, fine for sign-in.
const SCRYPT: ScryptOptions = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LENGTH = 32;

/** STAFF_DB: the database of the roster and the sessions, shared by the desk, the console and the staff command. */
export const staffDbConfig = {
  STAFF_DB: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,60}$/, 'must be 1-60 letters, digits, _ or -')
    .default('cc_staff'),
};

export const staffMemberSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, 'id: 2-64 characters of a-z, 0-9, dot, dash, underscore'),
    name: z.string().trim().min(1).max(120),
    role: z.enum(ROLES).refine((r) => r !== 'service', 'role service is for services, not people'),
    tier: z.union([z.literal(1), z.literal(2)]).default(1),
    skills: z.record(z.string().regex(/^[a-z0-9_-]{1,40}$/), z.number().int().min(1).max(5)).default({}),
    languages: z.array(z.string().regex(/^[a-z]{2}$/)).default(['en']),
    capacity: z
      .object({
        voice: z.number().int().min(0).max(10),
        chat: z.number().int().min(0).max(10),
        sms: z.number().int().min(0).max(20),
        email: z.number().int().min(0).max(20),
        // Left out, routing's default applies (entries from before the API channel have none).
        api: z.number().int().min(0).max(20).optional(),
        // Written like SMS; left out, routing's default applies too.
        whatsapp: z.number().int().min(0).max(20).optional(),
        total: z.number().int().min(1).max(40),
      })
      .default({ voice: 1, chat: 3, sms: 5, email: 5, total: 8 }),
    /** The person's own phone, in E.164 form, for taking calls on it instead of the desk's softphone. */
    phone: z
      .string()
      .regex(/^\+[1-9][0-9]{6,14}$/, 'phone: must be a number in E.164 form, such as +14155550100')
      .optional(),
    /** Where calls ring: the desk's softphone (the default), or the person's own phone. */
    answerCallsOn: z.enum(['softphone', 'phone']).default('softphone'),
  })
  .refine((m) => m.answerCallsOn !== 'phone' || m.phone !== undefined, { message: 'answerCallsOn: phone needs a phone number', path: ['phone'] });
export type StaffMember = z.infer<typeof staffMemberSchema>;

interface StaffDocument extends StaffMember {
  _id: string;
  passwordHash: string;
  updatedAt: Date;
  /** A disabled person keeps their roster entry but cannot sign in. */
  disabled?: boolean;
  /**
   * Raised whenever who the person is to the system changes (role, password, disabled): a
   * session made under an older version is no longer accepted. Absent on old entries (0).
   */
  sessionVersion?: number;
}

/** A roster entry as the applications read it. */
export type StaffEntry = StaffMember & { disabled: boolean; sessionVersion: number };

/** What a sign-in's password check found; a wrong id and a wrong password look the same. */
export type Authentication = { outcome: 'signed-in'; member: StaffEntry } | { outcome: 'disabled'; member: StaffEntry } | { outcome: 'wrong' };

export class StaffError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StaffError';
  }
}

async function hashPassword(password: string): Promise<string> {
  if (password.length < 12) throw new StaffError('password must be at least 12 characters');
  if (password.length > 256) throw new StaffError('password must be at most 256 characters');
  const salt = randomBytes(16);
  const key = await scryptAsync(password.normalize('NFKC'), salt, KEY_LENGTH, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key || password.length > 256) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await scryptAsync(password.normalize('NFKC'), Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return timingSafeEqual(actual, expected);
}

// A fixed hash to verify against for unknown ids, so a wrong id costs as long as a wrong password.
let decoyHash: Promise<string> | undefined;

export class StaffRoster {
  readonly members: Collection<StaffDocument>;

  constructor(db: Db) {
    this.members = db.collection<StaffDocument>('staff');
  }

  /**
   * Adds a person or updates their profile; the password is set when given. A new role or
   * password ends the person's sessions everywhere.
   */
  async upsert(input: z.input<typeof staffMemberSchema>, password?: string): Promise<StaffMember> {
    const member = staffMemberSchema.parse(input);
    const set: Partial<StaffDocument> = { ...member, updatedAt: new Date() };
    const existing = await this.members.findOne({ _id: member.id });
    if (password !== undefined) set.passwordHash = await hashPassword(password);
    else if (!existing) throw new StaffError(`new staff member ${member.id} needs a password`);
    const changesWho = !existing || existing.role !== member.role || password !== undefined;
    // An entry given without a phone loses the one it had.
    const unset = member.phone === undefined ? { $unset: { phone: '' as const } } : {};
    await this.members.updateOne({ _id: member.id }, { $set: set, ...unset, ...(changesWho ? { $inc: { sessionVersion: 1 } } : {}) }, { upsert: true });
    if (existing && changesWho) await this.endSessionsOf(member.id);
    return member;
  }

  async get(id: string): Promise<StaffEntry | null> {
    const doc = await this.members.findOne({ _id: id });
    return doc ? toEntry(doc) : null;
  }

  async list(): Promise<StaffEntry[]> {
    return (await this.members.find({}).sort({ _id: 1 }).toArray()).map(toEntry);
  }

  /** Keeps the person on the roster but lets them sign in no more; ends their sessions. */
  async disable(id: string): Promise<StaffEntry> {
    return this.setDisabled(id, true);
  }

  async enable(id: string): Promise<StaffEntry> {
    return this.setDisabled(id, false);
  }

  /** Takes the person off the roster and ends their sessions. */
  async remove(id: string): Promise<void> {
    const { deletedCount } = await this.members.deleteOne({ _id: id });
    if (!deletedCount) throw new StaffError(`no staff member ${id}`);
    await this.endSessionsOf(id);
  }

  /** Checks the password; says `disabled` only to someone who knew it. */
  async authenticate(id: string, password: string): Promise<Authentication> {
    const doc = await this.members.findOne({ _id: id });
    if (!doc) {
      decoyHash ??= hashPassword('decoy-password-never-matches');
      await verifyPassword(password, await decoyHash);
      return { outcome: 'wrong' };
    }
    if (!(await verifyPassword(password, doc.passwordHash))) return { outcome: 'wrong' };
    return { outcome: doc.disabled ? 'disabled' : 'signed-in', member: toEntry(doc) };
  }

  private async setDisabled(id: string, disabled: boolean): Promise<StaffEntry> {
    const doc = await this.members.findOneAndUpdate(
      { _id: id },
      { $set: { disabled, updatedAt: new Date() }, $inc: { sessionVersion: 1 } },
      { returnDocument: 'after' },
    );
    if (!doc) throw new StaffError(`no staff member ${id}`);
    await this.endSessionsOf(id);
    return toEntry(doc);
  }

  /** Deletes the person's sessions of both applications; the session version check is the backstop. */
  private async endSessionsOf(staffId: string): Promise<void> {
    await this.members.db.collection(SESSIONS_COLLECTION).deleteMany({ staffId });
  }
}

function toEntry(doc: StaffDocument): StaffEntry {
  const { _id, passwordHash: _hash, updatedAt: _updated, disabled, sessionVersion, ...member } = doc;
  return { ...member, id: _id, disabled: disabled === true, sessionVersion: sessionVersion ?? 0 };
}

const SESSIONS_COLLECTION = 'staff_sessions';

export interface Session {
  id: string;
  staffId: string;
  role: Role;
  name: string;
  expiresAt: Date;
  /** The person's session version when it was made; an older one than the roster's is ended. */
  staffVersion: number;
}

interface SessionDocument extends Omit<Session, 'id'> {
  _id: string;
  app: SessionOptions['app'];
}

/**
 * Server-side sessions: the cookie holds only a random id, so signing out or expiry ends the
 * session at once. Each request's CSRF token is an HMAC of the session id under the service's
 * secret, so it needs no storage and cannot be forged without the secret.
 */
export interface SessionOptions {
  /** The application the sessions are for; a session of one is never accepted by another. */
  app: 'agent-desk' | 'ops-console';
  /** Signs the CSRF tokens. */
  secret: string;
  ttlMs?: number;
  now?: () => number;
  /**
   * How long what the roster says of a person (their session version, whether they are still
   * there and enabled) is reused before it is read again: the most a change takes to reach
   * every instance. Default 1 s.
   */
  staffCheckMs?: number;
}

export class SessionStore {
  private readonly sessions: Collection<SessionDocument>;
  private readonly secret: string;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly staffCheckMs: number;
  private readonly staff: Collection<StaffDocument>;
  /** staffId → the version sessions must have (null: gone or disabled), and when it was read. */
  private readonly standing = new Map<string, { version: number | null; readAt: number }>();
  /** Per application: browsers do not separate cookies by port, so two apps on one host need two names. */
  readonly cookieName: string;

  constructor(
    db: Db,
    private readonly options: SessionOptions,
  ) {
    this.sessions = db.collection<SessionDocument>(SESSIONS_COLLECTION);
    this.staff = db.collection<StaffDocument>('staff');
    this.staffCheckMs = options.staffCheckMs ?? 1000;
    this.secret = options.secret;
    this.ttlMs = options.ttlMs ?? 8 * 3600_000;
    this.now = options.now ?? Date.now;
    this.cookieName = `cc_${options.app.replace('-', '_')}_session`;
  }

  async create(member: StaffEntry): Promise<Session> {
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      staffId: member.id,
      role: member.role,
      name: member.name,
      expiresAt: new Date(this.now() + this.ttlMs),
      staffVersion: member.sessionVersion,
    };
    const { id, ...rest } = session;
    await this.sessions.insertOne({ _id: id, app: this.options.app, ...rest });
    return session;
  }

  async get(id: string | undefined): Promise<Session | null> {
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
    const doc = await this.sessions.findOne({ _id: id });
    if (!doc || doc.app !== this.options.app) return null;
    if (doc.expiresAt.getTime() <= this.now()) {
      await this.sessions.deleteOne({ _id: id });
      return null;
    }
    const version = doc.staffVersion ?? 0;
    // A mismatch with what was cached may be the cache being behind (a session made since): read again.
    if (version !== (await this.currentVersion(doc.staffId)) && version !== (await this.currentVersion(doc.staffId, true))) {
      await this.sessions.deleteOne({ _id: id });
      return null;
    }
    const { _id, app: _app, ...rest } = doc;
    return { id: _id, ...rest, staffVersion: version };
  }

  /** The session version the roster holds for a person now, or null when they may not sign in. */
  private async currentVersion(staffId: string, fresh = false): Promise<number | null> {
    const now = Date.now();
    const known = this.standing.get(staffId);
    if (known && !fresh && now - known.readAt < this.staffCheckMs) return known.version;
    const doc = await this.staff.findOne({ _id: staffId }, { projection: { sessionVersion: 1, disabled: 1 } });
    const version = !doc || doc.disabled ? null : (doc.sessionVersion ?? 0);
    if (this.standing.size >= 10_000) this.standing.clear();
    this.standing.set(staffId, { version, readAt: now });
    return version;
  }

  async end(id: string): Promise<void> {
    await this.sessions.deleteOne({ _id: id });
  }

  csrfToken(sessionId: string): string {
    return createHmac('sha256', this.secret).update(`csrf:${sessionId}`).digest('base64url');
  }

  checkCsrf(sessionId: string, token: string | undefined): boolean {
    if (!token) return false;
    const expected = Buffer.from(this.csrfToken(sessionId));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** Set-Cookie for the session: HttpOnly, SameSite=Strict, lasting as long as the session. */
  cookie(session: Session, secure: boolean): string {
    const maxAge = Math.max(0, Math.floor((session.expiresAt.getTime() - this.now()) / 1000));
    return `${this.cookieName}=${session.id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
  }

  clearedCookie(secure: boolean): string {
    return `${this.cookieName}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
  }

  /** The session id in a Cookie header, if this application's cookie is there. */
  idFromCookie(header: string | undefined): string | undefined {
    for (const part of header?.split(';') ?? []) {
      const [name, ...value] = part.trim().split('=');
      if (name === this.cookieName) return value.join('=');
    }
    return undefined;
  }
}

export { SignInThrottle, type SignInDecision, type SignInLimits } from './sign-in-throttle';
