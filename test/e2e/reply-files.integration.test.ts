// Files on an agent's email reply, over the real edges: a customer mails the email service over
// SMTP, routing gives the conversation to the agent, the agent attaches files through the desk's
// HTTP (kept by the email service, asked with the agent's own token), and the reply reaches the
// customer by SMTP with the files byte for byte. What may not be attached is refused by the desk
// with its reason, and nothing is kept.
import { MongoClient } from 'mongodb';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, Presence } from '#libs/proto';
import { StaffRoster } from '#libs/staff';
import { dropDatabase, MONGODB_URI, testAuthEnv, testContext, uniqueId, waitFor } from '#libs/testing';
import { freePort, startTestDesk } from '../../services/agent-desk/test/stack';
import { startRouting } from '../../services/routing/src/service';
import { answerOffers, client, configFor, ownSkill, useRoutingHarness } from '../../services/routing/test/helpers';
import { DESK_PASSWORD, deskCall, deskSend, deskSignIn, type DeskSession } from './desk-session';
import { type EmailEdge, startEmailEdge } from './email-edge';
import { availableAgent } from './routing-agent';
import { whileUnavailable } from './sms-voice-stand-in';

const h = useRoutingHarness();
const ctxs = ['routing', 'email', 'desk'].map((n) => testContext(`e2e-reply-files-${n}`));
const staffDb = uniqueId('reply_files_staff').replace(/-/g, '_');
const { skill, env } = ownSkill();
const agentId = uniqueId('ana').toLowerCase();
const supervisorId = uniqueId('sue').toLowerCase();
const address = `${uniqueId('kim').toLowerCase()}@customer.test`;
// The smallest PNG: a 1×1 transparent pixel.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const RECEIPT = Buffer.from('Receipt 2026-0042\nWashing machine repair: 120.50 EUR\n');
let routing: Awaited<ReturnType<typeof startRouting>>;
let email: EmailEdge | undefined;
let agent: Awaited<ReturnType<typeof client>>;
let offers: ReturnType<typeof answerOffers>;
let ana: DeskSession;
let sue: DeskSession;

const keep = (session: DeskSession, name: string, type: string, bytes: Buffer) =>
  deskSend(session, '/api/reply-file', { type, bytes, headers: { 'x-file-name': encodeURIComponent(name) } });

beforeAll(async () => {
  routing = await startRouting(ctxs[0]!, configFor(h.database('routing_reply_files'), uniqueId('routing-reply-files'), env));
  await waitFor(() => routing.ownership.isActive, 30_000, 'routing to take its partitions');
  email = await startEmailEdge(ctxs[1]!, 'reply_files', { ...testAuthEnv('email'), EMAIL_CONTENT_HTTP_PORT: '0' });
  const mongo = await MongoClient.connect(MONGODB_URI);
  try {
    const roster = new StaffRoster(mongo.db(staffDb));
    await roster.upsert({ id: agentId, name: 'Ana', role: 'agent' }, DESK_PASSWORD);
    await roster.upsert({ id: supervisorId, name: 'Sue', role: 'supervisor' }, DESK_PASSWORD);
  } finally {
    await mongo.close();
  }
  // The reply needs no customer record; the desk gets an address nobody answers on.
  const desk = await startTestDesk(
    ctxs[2]!,
    staffDb,
    { routing: routing.grpcPort, record: await freePort() },
    { EMAIL_CONTENT_URL: `http://127.0.0.1:${email.contentPort}`, AGENT_DESK_REPLY_FILE_MAX_BYTES: '4096' },
  );
  const base = `http://127.0.0.1:${desk.port}`;
  ana = await deskSignIn(base, agentId);
  sue = await deskSignIn(base, supervisorId);
  // After the desk's sign-in, which registers the agent from the roster: the test's skill is set last.
  agent = await availableAgent(routing.grpcPort, agentId, skill, [[Channel.CHANNEL_EMAIL, 2]]);
  // Only this test's customer: other tests' contacts pass through this routing too.
  offers = answerOffers(agent, (id) => (routing.engine.conversationState(id)?.recipient?.value === address ? 'accept' : 'decline'));
}, 120_000);

afterAll(async () => {
  offers?.stop();
  if (agent) await whileUnavailable(() => agent.call(agent.raw.setPresence, { agentId: '', presence: Presence.PRESENCE_AWAY }));
  agent?.close();
  for (const c of [...ctxs].reverse()) await c.stop();
  await email?.stop();
  await dropDatabase(staffDb);
}, 60_000);

describe("files on an agent's email reply", () => {
  it('refuses what may not be attached, each with its reason', async () => {
    const fakePng = await keep(ana, 'photo.png', 'image/png', Buffer.from('not a picture at all'));
    expect(fakePng).toEqual({ status: 415, body: { error: expect.stringMatching(/must be what it claims to be/) } });
    expect(await keep(ana, 'big.txt', 'text/plain', Buffer.alloc(5000, 0x41))).toEqual({ status: 413, body: { error: 'request body is larger than 4 KB' } });
    expect(await keep(ana, 'empty.txt', 'text/plain', Buffer.alloc(0))).toEqual({ status: 400, body: { error: 'the file is empty' } });
    expect(await keep(sue, 'note.txt', 'text/plain', RECEIPT)).toEqual({ status: 403, body: { error: 'a supervisor does not attach files to replies' } });
    const forged = await deskCall(ana, '/api/reply', {
      conversationId: 'any',
      text: 'Here it is',
      attachments: [{ name: 'x.png', contentType: 'image/png', sizeBytes: 1, sha256: 'a'.repeat(64), storageRef: 'chat-attachment:' + 'a'.repeat(64) }],
    });
    expect(forged.status).toBe(400);
    expect(String(forged.body.error)).toContain('a reply carries only files kept by /api/reply-file');
  });

  it('mails the reply to the customer with the files the agent attached, byte for byte', { timeout: 180_000 }, async () => {
    const mailer = nodemailer.createTransport({ host: '127.0.0.1', port: email!.smtpPort, secure: false, ignoreTLS: true });
    await mailer.sendMail({ from: `"Kim Lee" <${address}>`, to: 'help@shop.test', subject: `Receipt please ${skill}`, text: 'Could you send me the receipt?' });
    const conversationId = await waitFor(
      () => offers.accepted.find((id) => routing.engine.conversationState(id)?.state === 'assigned'),
      60_000,
      'the conversation assigned to the agent',
    );

    const photo = await keep(ana, 'Quittung März.png', 'image/png', PNG);
    const receipt = await keep(ana, 'receipt.txt', 'text/plain', RECEIPT);
    expect(photo).toMatchObject({ status: 200, body: { name: 'Quittung März.png', contentType: 'image/png', sizeBytes: PNG.length } });
    expect(receipt).toMatchObject({
      status: 200,
      body: { name: 'receipt.txt', contentType: 'text/plain', storageRef: expect.stringMatching(/^email-attachment:[0-9a-f]{64}$/) },
    });
    const sent = await deskCall(ana, '/api/reply', {
      conversationId,
      text: 'Here is your receipt, and the photo of the part.',
      attachments: [photo.body, receipt.body],
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);

    const to = (m: { to?: unknown }) => (m.to as { text: string } | undefined)?.text.includes(address) ?? false;
    const reply = await waitFor(() => email!.mails.find((m) => to(m) && m.text?.includes('Here is your receipt')), 60_000, 'the reply by mail');
    const files = reply.attachments.map((a) => ({ name: a.filename, type: a.contentType, bytes: a.content.toString('base64') }));
    expect(files).toEqual([
      { name: 'Quittung März.png', type: 'image/png', bytes: PNG.toString('base64') },
      { name: 'receipt.txt', type: 'text/plain', bytes: RECEIPT.toString('base64') },
    ]);
  });
});
