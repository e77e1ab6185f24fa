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
    sessions = new SessionStore(client.db(dbName), { app: 'agent-desk', secret: 'x'.repeat(32), ttlMs: 60_000, now: () => clock });
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
    expect(await roster.authenticate('ana', 'correct horse battery')).toMatchObject({ id: 'ana', role: 'agent', tier: 1, skills: { billing: 3 } });
    expect(await roster.authenticate('ana', 'wrong password here')).toBeNull();
    expect(await roster.authenticate('nobody', 'correct horse battery')).toBeNull();
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
});
