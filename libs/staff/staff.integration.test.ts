import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropDatabase, MONGODB_URI, uniqueId } from '../testing';
import { SessionStore, StaffError, StaffRoster } from './index';

describe('staff roster and sessions (real store)', () => {
  const dbName = uniqueId('staff');
  let client: MongoClient;
  let roster: StaffRoster;
  let clock = Date.now();
  let sessions: SessionStore;

  beforeAll(async () => {
    client = await new MongoClient(MONGODB_URI).connect();
    roster = new StaffRoster(client.db(dbName));
    sessions = new SessionStore(client.db(dbName), { app: 'agent-desk', secret: 'x'.repeat(32), ttlMs: 60_000, now: () => clock, staffCheckMs: 0 });
  });
  afterAll(async () => {
    await client.close();
    await dropDatabase(dbName);
  });

  it('stores only a scrypt hash and signs in with the right password only', async () => {
    await roster.upsert({ id: 'ana', name: 'Ana', role: 'agent', skills: { billing: 3 } }, 'correct horse battery');
    const raw = await roster.members.findOne({ _id: 'ana' });
    expect(raw?.passwordHash).toMatch(/^scrypt\$/);
    expect(JSON.stringify(raw)).not.toContain('correct horse');
    expect(await roster.authenticate('ana', 'correct horse battery')).toMatchObject({
      outcome: 'signed-in',
      member: { id: 'ana', role: 'agent', tier: 1, skills: { billing: 3 }, disabled: false },
    });
    expect(await roster.authenticate('ana', 'wrong password here')).toEqual({ outcome: 'wrong' });
    expect(await roster.authenticate('nobody', 'correct horse battery')).toEqual({ outcome: 'wrong' });
  });

  it('refuses weak passwords, bad ids and a new member without a password', async () => {
    await expect(roster.upsert({ id: 'bo', name: 'Bo', role: 'agent' }, 'short')).rejects.toThrow(StaffError);
    await expect(roster.upsert({ id: 'Bad Id!', name: 'X', role: 'agent' }, 'long enough password')).rejects.toThrow(/id:/);
    await expect(roster.upsert({ id: 'cy', name: 'Cy', role: 'agent' })).rejects.toThrow(/needs a password/);
  });

  it('sessions expire, end on sign-out, and carry a CSRF token bound to them', async () => {
    const member = (await roster.get('ana'))!;
    const session = await sessions.create(member);
    expect(sessions.idFromCookie(`a=b; ${sessions.cookie(session, false).split(';')[0]}`)).toBe(session.id);
    expect(sessions.cookie(session, false)).toMatch(/^cc_agent_desk_session=.*HttpOnly; SameSite=Strict/);
    // The ops console neither reads the desk's cookie nor accepts the desk's session.
    const opsSessions = new SessionStore(client.db(dbName), { app: 'ops-console', secret: 'x'.repeat(32), now: () => clock });
    expect(opsSessions.idFromCookie(sessions.cookie(session, false).split(';')[0])).toBeUndefined();
    expect(await opsSessions.get(session.id)).toBeNull();
    expect((await sessions.get(session.id))?.staffId).toBe('ana');
    const csrf = sessions.csrfToken(session.id);
    expect(sessions.checkCsrf(session.id, csrf)).toBe(true);
    expect(sessions.checkCsrf(session.id, csrf.slice(1) + 'A')).toBe(false);
    expect(sessions.checkCsrf('other', csrf)).toBe(false);
    clock += 61_000;
    expect(await sessions.get(session.id)).toBeNull();
    const second = await sessions.create(member);
    await sessions.end(second.id);
    expect(await sessions.get(second.id)).toBeNull();
  });

  it('disables, enables and removes people, ending their sessions; says "disabled" only to the right password', async () => {
    await roster.upsert({ id: 'dee', name: 'Dee', role: 'agent' }, 'dee password 1234');
    const before = await sessions.create((await roster.get('dee'))!);
    expect(await roster.disable('dee')).toMatchObject({ id: 'dee', disabled: true });
    expect(await sessions.get(before.id)).toBeNull();
    expect(await roster.authenticate('dee', 'dee password 1234')).toMatchObject({ outcome: 'disabled' });
    expect(await roster.authenticate('dee', 'not her password')).toEqual({ outcome: 'wrong' });
    // A profile update keeps the person disabled.
    await roster.upsert({ id: 'dee', name: 'Dee Ek', role: 'agent' });
    expect(await roster.get('dee')).toMatchObject({ name: 'Dee Ek', disabled: true });
    await roster.enable('dee');
    expect(await roster.authenticate('dee', 'dee password 1234')).toMatchObject({ outcome: 'signed-in' });
    const after = await sessions.create((await roster.get('dee'))!);
    await roster.remove('dee');
    expect(await roster.get('dee')).toBeNull();
    expect((await roster.list()).map((m) => m.id)).not.toContain('dee');
    expect(await sessions.get(after.id)).toBeNull();
    await expect(roster.remove('dee')).rejects.toThrow('no staff member dee');
    await expect(roster.disable('nobody')).rejects.toThrow(StaffError);
  });

  it("refuses a session made before the person's role or password changed, on any store client", async () => {
    await roster.upsert({ id: 'eve', name: 'Eve', role: 'agent' }, 'eve password 1234');
    const first = await sessions.create((await roster.get('eve'))!);
    // A profile change that is not a new role or password keeps the session.
    await roster.upsert({ id: 'eve', name: 'Eve Ek', role: 'agent', skills: { billing: 2 } });
    expect(await sessions.get(first.id)).not.toBeNull();
    await roster.upsert({ id: 'eve', name: 'Eve Ek', role: 'supervisor' });
    expect(await sessions.get(first.id)).toBeNull();
    const second = await sessions.create((await roster.get('eve'))!);
    expect(second.staffVersion).toBeGreaterThan(first.staffVersion);
    await roster.upsert({ id: 'eve', name: 'Eve Ek', role: 'supervisor' }, 'eve new password 99');
    expect(await sessions.get(second.id)).toBeNull();
    // The version alone ends a session, even if its document were left behind (another instance's cache).
    const third = await sessions.create((await roster.get('eve'))!);
    await roster.members.updateOne({ _id: 'eve' }, { $inc: { sessionVersion: 1 } });
    expect(await sessions.get(third.id)).toBeNull();
  });

  it('reuses what the roster said of a person for staffCheckMs only', async () => {
    const cached = new SessionStore(client.db(dbName), { app: 'agent-desk', secret: 'x'.repeat(32), now: () => clock, staffCheckMs: 300 });
    const s = await cached.create((await roster.get('ana'))!);
    expect(await cached.get(s.id)).not.toBeNull();
    await roster.members.updateOne({ _id: 'ana' }, { $inc: { sessionVersion: 1 } });
    await new Promise((r) => setTimeout(r, 350));
    expect(await cached.get(s.id)).toBeNull();
    // A session made after the cached read is not refused for the cache being behind.
    const fresh = await cached.create((await roster.get('ana'))!);
    expect(await cached.get(fresh.id)).not.toBeNull();
    await roster.upsert({ id: 'ana', name: 'Ana', role: 'supervisor' });
    const afterChange = await cached.create((await roster.get('ana'))!);
    expect(await cached.get(afterChange.id)).not.toBeNull();
    expect(await cached.get(fresh.id)).toBeNull();
  });
});
