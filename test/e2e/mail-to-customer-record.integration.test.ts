// Across services: mail sent over real SMTP to the email service becomes, through Kafka, the
// customer's record in customer-record, read back over gRPC by a supervisor (with a reason, as
// every supervisor's read): no routing runs here to offer the conversations to an agent.
import { credentials, Metadata } from '@grpc/grpc-js';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#libs/config';
import { Channel, CustomerRecordServiceClient, FlagKind, GetCustomerContextRequest, IdentityKind, type GetCustomerContextResponse } from '#libs/proto';
import { dropDatabase, KAFKA_BROKERS, MONGODB_URI, testAuthEnv, testContext, testToken, uniqueId, waitFor } from '#libs/testing';
import { customerRecordConfig } from '../../services/customer-record/src/config';
import { startCustomerRecord } from '../../services/customer-record/src/service';
import { emailConfig } from '../../services/email/src/config';
import { startEmailService } from '../../services/email/src/service';

const database = uniqueId('e2e').replace(/-/g, '_');
const email = testContext('e2e-email');
const record = testContext('e2e-customer-record');
let smtpPort: number;
let client: InstanceType<typeof CustomerRecordServiceClient>;
let supervisorToken: string;

beforeAll(async () => {
  const common = { KAFKA_BROKERS: KAFKA_BROKERS.join(','), MONGODB_URI, MONGODB_DATABASE: database, HTTP_PORT: '0' };
  ({ smtpPort } = await startEmailService(
    email,
    loadConfig(emailConfig, {
      ...common,
      SMTP_PORT: '0',
      SUPPORT_DOMAINS: 'shop.test',
      SMTP_URL: 'smtp://127.0.0.1:9',
      OUTBOUND_MAX_ATTEMPTS: '1',
      EMAIL_OUTBOUND_GROUP: uniqueId('e2e-out'),
    }),
  ));
  const service = await startCustomerRecord(
    record,
    loadConfig(customerRecordConfig, {
      ...common,
      GRPC_PORT: '0',
      ...testAuthEnv('customer-record'),
      PROJECTION_GROUP_ID: uniqueId('e2e-projection'),
      PROJECTION_FROM_BEGINNING: 'false',
    }),
  );
  client = new CustomerRecordServiceClient(`127.0.0.1:${service.grpcPort}`, credentials.createInsecure());
  supervisorToken = await testToken({ id: 'sue', role: 'supervisor' }, 'customer-record');
});

afterAll(async () => {
  client.close();
  await email.stop();
  await record.stop();
  await dropDatabase(database);
});

function context(address: string): Promise<GetCustomerContextResponse> {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${supervisorToken}`);
  return new Promise((resolve, reject) =>
    client.getCustomerContext(
      GetCustomerContextRequest.fromPartial({ identity: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: address }, reason: 'end-to-end check of the record' }),
      metadata,
      (err, res) => (err ? reject(err) : resolve(res)),
    ),
  );
}

describe('email → Kafka → customer record', () => {
  it("shows the customer's conversations from mail, and flags the customer as regular at the third", async () => {
    const address = `${uniqueId('carla')}@customer.test`;
    const mailer = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
    for (const subject of ['Where is my parcel?', 'Wrong size', 'Refund please']) {
      await mailer.sendMail({ from: `"Carla Diaz" <${address.toUpperCase()}>`, to: 'help@shop.test', subject, text: `About: ${subject}` });
    }
    const seen = await waitFor(
      () =>
        context(address).then(
          (c) => (c.recentConversations.length === 3 ? c : undefined),
          () => undefined,
        ),
      45_000,
      'three conversations on the record',
    );
    expect(seen.customer?.identities).toContainEqual(expect.objectContaining({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: address }));
    expect(seen.recentConversations.map((c) => c.subject).sort()).toEqual(['Refund please', 'Where is my parcel?', 'Wrong size']);
    expect(seen.recentConversations.every((c) => c.channel === Channel.CHANNEL_EMAIL)).toBe(true);
    const regular = seen.customer?.flags.find((f) => f.kind === FlagKind.FLAG_KIND_REGULAR);
    expect(regular).toMatchObject({ on: true, reason: '3 conversations in the last 90 days' });
  });
});
