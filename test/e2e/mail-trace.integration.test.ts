// One mail's journey is one trace: the email, customer-record and routing processes export
// their spans over OTLP to a local receiver, an agent accepts and answers over gRPC, and the
// answer is mailed out; every hop from the SMTP transaction to the SMTP send is in the trace.
import { credentials, Metadata, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, Presence, RoutingServiceClient, Tier, type WatchAssignmentsResponse } from '#libs/proto';
import { dropDatabase, KAFKA_BROKERS, MONGODB_URI, testAuthEnv, testMetadata, uniqueId, waitFor } from '#libs/testing';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '#libs/testing/otlp-receiver';
import { freePort, startServiceProcess, stopServiceProcesses } from './services';

const database = uniqueId('trace').replace(/-/g, '_');
const subject = `Parcel ${uniqueId('trace')}`;
let receiver: OtlpReceiver;
let sink: SMTPServer;
const mailedOut: string[] = [];
let smtpPort: number;
let routingPort: number;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  sink = new SMTPServer({ authOptional: true, disabledCommands: ['AUTH', 'STARTTLS'], logger: false, onData: collect });
  const sinkPort = await freePort();
  await new Promise<void>((resolve) => sink.listen(sinkPort, '127.0.0.1', resolve));
  const common = {
    KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    MONGODB_URI,
    MONGODB_DATABASE: database,
    LOG_LEVEL: 'warn',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
  [smtpPort, routingPort] = await Promise.all([freePort(), freePort()]);
  await Promise.all([
    startServiceProcess(
      'email',
      {
        ...common,
        SMTP_PORT: String(smtpPort),
        SUPPORT_DOMAINS: 'shop.test',
        SMTP_URL: `smtp://127.0.0.1:${sinkPort}`,
        EMAIL_OUTBOUND_GROUP: uniqueId('trace-out'),
      },
      await freePort(),
    ),
    startServiceProcess(
      'customer-record',
      {
        ...common,
        GRPC_PORT: String(await freePort()),
        ...testAuthEnv('customer-record'),
        PROJECTION_GROUP_ID: uniqueId('trace-projection'),
        PROJECTION_FROM_BEGINNING: 'false',
      },
      await freePort(),
    ),
    startServiceProcess(
      'routing',
      { ...common, GRPC_PORT: String(routingPort), ...testAuthEnv('routing'), ROUTING_CONSUMER_GROUP: uniqueId('trace-routing') },
      await freePort(),
      '/activez',
    ),
  ]);
}, 120_000);

afterAll(async () => {
  await stopServiceProcesses();
  await new Promise<void>((resolve) => sink.close(() => resolve()));
  await receiver.close();
  await dropDatabase(database);
});

function collect(stream: NodeJS.ReadableStream, _session: unknown, callback: (err?: Error | null) => void): void {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => {
    mailedOut.push(Buffer.concat(chunks).toString('utf8'));
    callback();
  });
}

/** An agent at the desk, as the desk calls routing: registered, available, following its stream. */
async function agentAt(agentId: string) {
  const client = new RoutingServiceClient(`127.0.0.1:${routingPort}`, credentials.createInsecure());
  const md = await testMetadata({ id: agentId, role: 'agent' }, 'routing');
  const supervisor = await testMetadata({ id: 'trace-supervisor', role: 'supervisor' }, 'routing');
  const call = <Req>(method: (req: Req, md: Metadata, cb: (err: ServiceError | null) => void) => unknown, req: Req, metadata = md) =>
    new Promise<void>((resolve, reject) => method.call(client, req, metadata, (err) => (err ? reject(err) : resolve())));
  await call(
    client.registerAgent,
    {
      agentId,
      name: 'Tia',
      tier: Tier.TIER_FRONT_OFFICE,
      skills: [{ name: 'general', level: 3 }],
      languages: ['en'],
      capacity: [{ channel: Channel.CHANNEL_EMAIL, capacity: 5, active: 0 }],
      totalCapacity: 5,
    },
    supervisor,
  );
  const updates: WatchAssignmentsResponse[] = [];
  const stream: ClientReadableStream<WatchAssignmentsResponse> = client.watchAssignments({}, md);
  stream.on('data', (u: WatchAssignmentsResponse) => updates.push(u));
  stream.on('error', () => undefined);
  await waitFor(() => updates.length > 0, 10_000, 'the stream to open');
  await call(client.setPresence, { agentId: '', presence: Presence.PRESENCE_AVAILABLE });
  return { client, md, call, updates, close: () => (stream.cancel(), client.close()) };
}

/** The span's ancestors' names, nearest first, within the spans received. */
function ancestry(span: ReceivedSpan, byId: Map<string, ReceivedSpan>): string[] {
  const names: string[] = [];
  for (let s = byId.get(span.parentSpanId); s; s = byId.get(s.parentSpanId)) names.push(`${s.service}: ${s.name}`);
  return names;
}

describe('tracing across the services', () => {
  it("follows one mail from the SMTP transaction to the agent's answer mailed out, in one trace", async () => {
    const agent = await agentAt(uniqueId('trace-agent'));
    const mailer = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
    await mailer.sendMail({ from: `"Rui Sousa" <${uniqueId('rui')}@customer.test>`, to: 'help@shop.test', subject, text: 'Where is my parcel?' });
    const offer = await waitFor(
      () => agent.updates.map((u) => (u.update?.$case === 'offer' ? u.update.offer : undefined)).find((o) => o?.subject === subject),
      30_000,
      'the offer',
    );
    await agent.call(agent.client.acceptOffer, { conversationId: offer.conversationId });
    // The desk's own span context, as the desk sends it with each call.
    const deskTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const replyMd = agent.md.clone();
    replyMd.set('traceparent', `00-${deskTrace}-00f067aa0ba902b7-01`);
    await agent.call(agent.client.reply, { conversationId: offer.conversationId, text: 'It left our warehouse today.', subject: '', attachments: [] }, replyMd);
    await waitFor(() => mailedOut.some((m) => m.includes('It left our warehouse today.')), 30_000, 'the answer mailed out');
    agent.close();

    const expected = [
      'email: smtp receive',
      'email: send cc.contact.inbound.v1',
      'customer-record: process cc.contact.inbound.v1',
      'routing: process cc.contact.inbound.v1',
      'routing: routing decide',
      'routing: routing offer',
      'routing: routing AcceptOffer',
      'routing: routing Reply',
      'email: process cc.outbound.v1',
      'email: smtp send',
    ];
    const edge = await waitFor(() => receiver.spans.find((s) => s.name === 'smtp receive' && s.service === 'email'), 20_000, 'the SMTP span');
    const inTrace = () => receiver.spans.filter((s) => s.traceId === edge.traceId);
    const missing = () => {
      const names = new Set(inTrace().map((s) => `${s.service}: ${s.name}`));
      return expected.filter((n) => !names.has(n));
    };
    await waitFor(() => missing().length === 0, 20_000, 'every hop of the mail in its trace').catch((err: Error) => {
      throw new Error(`${err.message}; missing ${missing().join(', ')}`);
    });
    const journey = inTrace();
    const byId = new Map(journey.map((s) => [s.spanId, s]));
    // The answer's SMTP send descends from the reply, which descends from the mail's arrival.
    const answerSend = journey.find((s) => s.name === 'smtp send' && ancestry(s, byId).includes('routing: routing Reply'))!;
    expect(ancestry(answerSend, byId)).toEqual(expect.arrayContaining(['email: process cc.outbound.v1', 'routing: routing Reply', 'email: smtp receive']));
    const reply = journey.find((s) => s.name === 'routing Reply')!;
    expect(reply.kind).toBe(2);
    expect(reply.links.map((l) => l.traceId)).toEqual([deskTrace]);
    const consumed = journey.find((s) => s.service === 'customer-record' && s.kind === 5)!;
    expect(consumed.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.name': 'cc.contact.inbound.v1' });
    expect(ancestry(consumed, byId)).toEqual(['email: send cc.contact.inbound.v1', 'email: smtp receive']);
  }, 120_000);
});
