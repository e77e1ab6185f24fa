// Which conversation an inbound SMS joins, against the real store: first messages of one number
// pair arriving at once open one conversation, a retry keeps its conversation, and a message
// after the window opens the next one. And a call, looked up only by `_id`: recorded once per
// CallSid, found by its CallSid and, while it lasts, by its conversation.
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dropDatabase, MONGODB_URI, uniqueId } from '#libs/testing';
import { SmsVoiceStore } from '../src/store';
import { claimerOf } from '#libs/delivery';

const database = uniqueId('sms_threads').replace(/-/g, '_');
const WINDOW_MS = 3600_000;
let mongo: MongoClient;
let store: SmsVoiceStore;

const sid = () => `SM${randomBytes(16).toString('hex')}`;
const pair = () => `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;

beforeAll(async () => {
  mongo = await new MongoClient(MONGODB_URI).connect();
  store = new SmsVoiceStore(mongo.db(database), claimerOf(uniqueId('sms-voice')));
});

afterAll(async () => {
  await mongo?.close();
  await dropDatabase(database);
});

it('opens one conversation when the first messages of a number pair arrive at once', async () => {
  const customer = pair();
  const now = new Date();
  const claims = await Promise.all(Array.from({ length: 8 }, () => store.claimSms(sid(), customer, '+14155550100', now, WINDOW_MS)));
  expect(new Set(claims.map((c) => c.conversationId)).size).toBe(1);
  expect(claims.filter((c) => c.isNew)).toHaveLength(1);
  expect(await store.numbersOf(claims[0]!.conversationId)).toEqual({ customer, company: '+14155550100' });
});

it('keeps a retried message in its conversation and opens the next one after the window', async () => {
  const customer = pair();
  const first = sid();
  const start = new Date(Date.now() - 2 * WINDOW_MS);
  const opened = await store.claimSms(first, customer, '+14155550100', start, WINDOW_MS);
  expect(await store.claimSms(first, customer, '+14155550100', new Date(), WINDOW_MS)).toEqual({
    conversationId: opened.conversationId,
    isNew: false,
    retry: true,
  });
  const later = await Promise.all([sid(), sid(), sid()].map((s) => store.claimSms(s, customer, '+14155550100', new Date(), WINDOW_MS)));
  const next = later[0]!.conversationId;
  expect(next).not.toBe(opened.conversationId);
  expect(later.every((c) => c.conversationId === next)).toBe(true);
  expect(later.filter((c) => c.isNew)).toHaveLength(1);
});

it('records a call once, finds it by CallSid and by its conversation until it ends', async () => {
  const sid = `CA${randomBytes(16).toString('hex')}`;
  const first = { _id: sid, conversationId: `conv-${sid}`, customer: '+14155550123', company: '+14155550100', startedAt: new Date(Date.now() - 1000) };
  expect(await store.recordCall(first)).toEqual(first);
  // A Twilio retry of the webhook gets the call as first recorded.
  expect(await store.recordCall({ ...first, startedAt: new Date() })).toEqual(first);
  expect(await store.callOf(sid)).toEqual(first);
  expect(await store.ongoingCallOf(first.conversationId)).toEqual(first);
  expect(await store.callOf(`CA${randomBytes(16).toString('hex')}`)).toBeUndefined();
  expect(await store.ongoingCallOf('conv-unknown')).toBeUndefined();

  const endedAt = new Date();
  await store.endCall(sid, endedAt);
  expect(await store.callOf(sid)).toEqual({ ...first, endedAt });
  expect(await store.ongoingCallOf(first.conversationId)).toBeUndefined();
});
