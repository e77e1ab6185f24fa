// A call in the store, looked up only by `_id`: recorded once per CallSid, found by its CallSid
// and, while it lasts, by its conversation.
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dropDatabase, MONGODB_URI, uniqueId } from '../../../libs/testing';
import { SmsVoiceStore } from '../src/store';

const database = uniqueId('sms_calls').replace(/-/g, '_');
let mongo: MongoClient;
let store: SmsVoiceStore;

beforeAll(async () => {
  mongo = await new MongoClient(MONGODB_URI).connect();
  store = new SmsVoiceStore(mongo.db(database));
});

afterAll(async () => {
  await mongo?.close();
  await dropDatabase(database);
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
