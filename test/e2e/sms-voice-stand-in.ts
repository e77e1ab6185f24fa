// sms-voice in the test's process against the Twilio stand-in (the real twilio client calls it),
// with routing at a given gRPC port: its signed webhooks, what the stand-in was asked to send,
// and the clean-up. Shared by the end-to-end tests that go through Twilio.
import type http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import twilio from 'twilio';
import { loadConfig } from '#libs/config';
import type { ServiceContext } from '#libs/service';
import { KAFKA_BROKERS, MONGODB_URI, dropDatabase, testAuthEnv, uniqueId, TEST_COMPANY_NUMBER } from '#libs/testing';
import { listenOnLoopback, outboxServer } from '../../scripts/outbox/server';
import { TwilioStandIn, type TwilioStandInOptions } from '../../scripts/outbox/twilio-api';
import { smsVoiceConfig } from '../../services/sms-voice/src/config';
import { startSmsVoiceService } from '../../services/sms-voice/src/service';

export interface SmsVoiceStandIn {
  standIn: TwilioStandIn;
  token: string;
  accountSid: string;
  /** Where sms-voice's webhooks answer; they are signed for http://127.0.0.1:1 (its PUBLIC_BASE_URL). */
  webhookBase: string;
  /** Posts a Messaging webhook (an SMS or WhatsApp message in) signed as Twilio signs it; its status and body. */
  inbound(params: Record<string, string>): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
}

/** Starts the stand-in and sms-voice (on `ctx`, stopped with it); stop() closes the stand-in and drops the store. */
export async function startSmsVoiceStandIn(
  ctx: ServiceContext,
  name: string,
  routingGrpcPort: number,
  options: { standIn?: TwilioStandInOptions; config?: Record<string, string> } = {},
): Promise<SmsVoiceStandIn> {
  const standIn = new TwilioStandIn({ maxItems: Infinity, ...options.standIn });
  const token = randomBytes(16).toString('hex');
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const smsDb = uniqueId(`smsvoice_${name}`).replace(/-/g, '_');
  const spoolDir = mkdtempSync(path.join(tmpdir(), 'sms-voice-spool-'));
  const twilioServer: http.Server = outboxServer(standIn, { consoleUrl: 'http://127.0.0.1:8090' });
  const twilioPort = await listenOnLoopback(twilioServer, 0);
  const { port } = await startSmsVoiceService(
    ctx,
    loadConfig(smsVoiceConfig, {
      KAFKA_BROKERS: KAFKA_BROKERS.join(','),
      MONGODB_URI,
      MONGODB_DATABASE: smsDb,
      HTTP_PORT: '0',
      PUBLIC_BASE_URL: 'http://127.0.0.1:1',
      SMS_VOICE_SPOOL_DIR: spoolDir,
      TWILIO_AUTH_TOKEN: token,
      TWILIO_ACCOUNT_SID: accountSid,
      TWILIO_API_BASE_URL: `http://127.0.0.1:${twilioPort}`,
      SMS_OUTBOUND_GROUP: uniqueId('sms-outbound'),
      SMS_COMPANY_NUMBER: TEST_COMPANY_NUMBER,
      ROUTING_GRPC_ADDR: `127.0.0.1:${routingGrpcPort}`,
      ...testAuthEnv('sms-voice'),
      LOG_LEVEL: 'silent',
      ...options.config,
    }),
  );
  return {
    standIn,
    token,
    accountSid,
    webhookBase: `http://127.0.0.1:${port}`,
    async inbound(params) {
      const headers = {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(token, 'http://127.0.0.1:1/twilio/sms', { AccountSid: accountSid, ...params }),
      };
      const res = await fetch(`http://127.0.0.1:${port}/twilio/sms`, {
        method: 'POST',
        headers,
        body: new URLSearchParams({ AccountSid: accountSid, ...params }),
      });
      return { status: res.status, body: await res.text() };
    },
    async stop() {
      await new Promise((r) => twilioServer.close(r));
      await dropDatabase(smsDb);
      rmSync(spoolDir, { recursive: true, force: true });
    },
  };
}

/** A gRPC call made again while routing answers UNAVAILABLE (standing down, taking back over). */
export async function whileUnavailable<T>(call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if ((err as { code?: number }).code !== 14 || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
