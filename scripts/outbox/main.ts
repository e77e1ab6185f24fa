// The SMS and call outbox as a process of its own, as `npm start` runs it (scripts/run-services.ts).
//   OUTBOX_SMS_PORT      its port on 127.0.0.1 (8026)
//   OUTBOX_CONSOLE_URL   the ops console, where a conversation's timeline is (http://127.0.0.1:8090)
//   OUTBOX_MAIL_URL      Mailpit's web view, linked from the page when set
import { callConversationId } from '../../services/sms-voice/src/calls';
import { listenOnLoopback, outboxServer } from './server';
import { TwilioStandIn } from './twilio-api';

const port = Number(process.env.OUTBOX_SMS_PORT ?? 8026);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`OUTBOX_SMS_PORT must be a port number (got "${process.env.OUTBOX_SMS_PORT}")`);
  process.exit(2);
}
// sms-voice names a call's conversation after its CallSid, so a call's new instructions find theirs.
const standIn = new TwilioStandIn({ conversationOfCall: callConversationId });
const server = outboxServer(standIn, {
  consoleUrl: process.env.OUTBOX_CONSOLE_URL ?? 'http://127.0.0.1:8090',
  ...(process.env.OUTBOX_MAIL_URL ? { mailUrl: process.env.OUTBOX_MAIL_URL } : {}),
});
listenOnLoopback(server, port).then(
  (p) => console.log(`SMS and call outbox on http://127.0.0.1:${p} (Twilio REST stand-in and its page)`),
  (err: Error) => {
    console.error(`the SMS and call outbox could not listen on 127.0.0.1:${port}: ${err.message}`);
    process.exit(1);
  },
);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
