// The company writing first on WhatsApp, through sms-voice, the real twilio client and the Twilio
// stand-in, which here refuses free-form WhatsApp outside the customer's 24-hour window as Twilio
// does (63016). Routing's first message is published as routing publishes it: an approved template
// goes out with its ContentSid and ContentVariables at any time; free text only inside the window,
// and otherwise comes back as a delivery report that says why; STOP holds for templates too.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { Channel, IdentityKind, OutboundKind, OutboundMessage } from '#libs/proto';
import { connectKafka, type ServiceKafka } from '#libs/service';
import { deliveryReportFrom, KAFKA_BROKERS, recordTopics, testContext, uniqueId, waitFor } from '#libs/testing';
import { startSmsVoiceStandIn, type SmsVoiceStandIn } from './sms-voice-stand-in';

const COMPANY = '+14155550100';
const TEMPLATE = `HX${randomBytes(16).toString('hex')}`;
const ctx = testContext('e2e-whatsapp-first');
let sms: SmsVoiceStandIn;
let kafka: ServiceKafka;
let recorder: Awaited<ReturnType<typeof recordTopics>>;

const customerNumber = () => `+1415559${String(1000 + Math.floor(Math.random() * 8999))}`;

beforeAll(async () => {
  recorder = await recordTopics([topics.contactInbound.name, topics.conversationEvents.name]);
  // An unreachable routing: sms-voice then falls back to the SLA target for waits, which no test here needs.
  sms = await startSmsVoiceStandIn(ctx, 'whatsapp_first', 9, { standIn: { whatsAppWindow: true }, config: { WHATSAPP_COMPANY_NUMBER: COMPANY } });
  kafka = await connectKafka(testContext('e2e-whatsapp-first-kafka'), { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
}, 60_000);

afterAll(async () => {
  await ctx.stop();
  await recorder?.close();
  await sms?.stop();
});

/** The first message of a company-started WhatsApp conversation, as routing publishes it. */
async function writeFirst(customer: string, text: string, metadata: Record<string, string> = {}): Promise<OutboundMessage> {
  const conversationId = uniqueId('conv-desk-wa');
  const message = OutboundMessage.fromPartial({
    messageId: uniqueId('wa-first'),
    conversationId,
    channel: Channel.CHANNEL_WHATSAPP,
    kind: OutboundKind.OUTBOUND_KIND_REPLY,
    recipient: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: customer, namespace: '' },
    text,
    agentId: 'ana',
    channelMetadata: { 'initiated-by': 'desk', ...metadata },
  });
  await kafka.producer.publish(topics.outbound, conversationId, message);
  return message;
}

async function reportOf(message: OutboundMessage) {
  const e = await deliveryReportFrom(recorder, ctx, message.messageId);
  return e.step?.$case === 'deliveryReported' ? e.step.deliveryReported : undefined;
}

const sentTo = (customer: string) => sms.standIn.items.filter((i) => i.to === `whatsapp:${customer}`);

describe('writing first on WhatsApp', () => {
  it('sends an approved template with its ContentSid and variables, and the customer’s answer joins the conversation', { timeout: 90_000 }, async () => {
    const customer = customerNumber();
    const variables = JSON.stringify({ 1: 'Kim', 2: 'A-1001' });
    const message = await writeFirst(customer, 'Hello Kim, order A-1001 has shipped.', {
      'whatsapp-content-sid': TEMPLATE,
      'whatsapp-content-variables': variables,
    });
    expect(await reportOf(message)).toMatchObject({ delivered: true });
    expect(sentTo(customer)).toEqual([expect.objectContaining({ from: `whatsapp:${COMPANY}`, contentSid: TEMPLATE, contentVariables: variables })]);
    const sid = `SM${randomBytes(16).toString('hex')}`;
    expect((await sms.inbound({ MessageSid: sid, From: `whatsapp:${customer}`, To: `whatsapp:${COMPANY}`, Body: 'Thanks!' })).status).toBe(200);
    const answer = await waitFor(() => recorder.values(topics.contactInbound).find((c) => c.externalId === sid), 30_000, 'the answer');
    expect(answer).toMatchObject({ channel: Channel.CHANNEL_WHATSAPP, conversationId: message.conversationId });
  });

  it('sends no free text to a customer who never wrote on WhatsApp, and says why', { timeout: 90_000 }, async () => {
    const customer = customerNumber();
    const report = await reportOf(await writeFirst(customer, 'Your parcel is delayed.'));
    expect(report).toMatchObject({ delivered: false, permanent: true, errorCode: 'WHATSAPP_WINDOW_CLOSED' });
    expect(report?.detail).toContain('the customer has not written on WhatsApp');
    expect(sentTo(customer)).toEqual([]);
  });

  it('reports Twilio’s 63016 in words when Twilio finds the window closed, and sends once Twilio has the customer’s message', { timeout: 90_000 }, async () => {
    const customer = customerNumber();
    // sms-voice has the customer's message; the stand-in was not told of it, as if Twilio knew otherwise.
    const sid = `SM${randomBytes(16).toString('hex')}`;
    expect((await sms.inbound({ MessageSid: sid, From: `whatsapp:${customer}`, To: `whatsapp:${COMPANY}`, Body: 'Hello?' })).status).toBe(200);
    const refused = await reportOf(await writeFirst(customer, 'We are on it.'));
    expect(refused).toMatchObject({ delivered: false, permanent: true, errorCode: '63016' });
    expect(refused?.detail).toMatch(
      /^WhatsApp refused a free-form message outside the 24 hours after the customer's last message: write first with an approved template/,
    );
    sms.standIn.customerWrote(`whatsapp:${customer}`, `whatsapp:${COMPANY}`);
    expect(await reportOf(await writeFirst(customer, 'We are on it, really.'))).toMatchObject({ delivered: true });
    expect(sentTo(customer).map((i) => i.body)).toEqual(['We are on it, really.']);
  });

  it('sends not even a template to a customer who replied STOP on WhatsApp', { timeout: 90_000 }, async () => {
    const customer = customerNumber();
    const stop = await sms.inbound({
      MessageSid: `SM${randomBytes(16).toString('hex')}`,
      From: `whatsapp:${customer}`,
      To: `whatsapp:${COMPANY}`,
      Body: 'STOP',
    });
    expect(stop.body).toContain('You will get no more WhatsApp messages from us');
    const report = await reportOf(await writeFirst(customer, 'Hello Kim', { 'whatsapp-content-sid': TEMPLATE, 'whatsapp-content-variables': '{"1":"Kim"}' }));
    expect(report).toMatchObject({ delivered: false, permanent: true, errorCode: 'OPTED_OUT' });
    expect(sentTo(customer).filter((i) => i.contentSid)).toEqual([]);
  });
});
