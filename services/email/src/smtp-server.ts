// The SMTP edge: smtp-server's callbacks handed to the admission checks and to receiving a
// mail, every failure answered with the reply smtp-replies.ts gives it, every outcome counted.
import { readFileSync } from 'node:fs';
import { SMTPServer } from 'smtp-server';
import { errorDetails, sharedCounter } from '#libs/observability';
import { inSpan, SpanKind } from '#libs/tracing';
import { Admission } from './admission';
import type { EmailConfig } from './config';
import { dnsLookupFor } from './dns';
import { receive, type InboundDeps, type Receiving } from './inbound';
import { smtpAnswerTo } from './smtp-replies';

/**
 * How long open SMTP sessions get to finish on shutdown: long enough for a mail in DATA to hear
 * from Kafka, well inside the 15 s after which the runtime exits anyway. Then they get 421.
 */
const smtpCloseGraceMs = (config: Pick<EmailConfig, 'PUBLISH_TIMEOUT_MS'>) => Math.min(config.PUBLISH_TIMEOUT_MS + 1000, 8000);

const SMTP_RECEIVE = { 'network.protocol.name': 'smtp' };

type Callback = (err?: Error | null) => void;

export function createSmtpServer(deps: InboundDeps): SMTPServer {
  const { config, logger } = deps;
  const admission = new Admission(config);
  const received = sharedCounter(deps.metrics, {
    name: 'cc_email_inbound_total',
    help: 'Inbound mail by outcome (accepted, automated, refused_*, deferred_kafka)',
    labelNames: ['outcome'],
  });
  const verdicts = sharedCounter(deps.metrics, {
    name: 'cc_email_sender_verdict_total',
    help: 'Inbound mail by the verdict on its From address (pass, fail, none, temporary)',
    labelNames: ['verdict'],
  });
  const receiving: Receiving = { ...deps, now: deps.now ?? (() => new Date()), dns: deps.dns ?? dnsLookupFor(config), verdicts };

  const refuse = (callback: Callback, err: unknown) => {
    const { reply, outcome } = smtpAnswerTo(err);
    received.inc({ outcome });
    if (outcome === 'deferred_kafka') logger.warn(errorDetails(err), 'mail deferred: Kafka did not acknowledge');
    if (outcome === 'deferred_error') logger.error(errorDetails(err), 'mail deferred after an unexpected error');
    callback(reply);
  };
  const check = (callback: Callback, admit: () => void) => {
    try {
      admit();
    } catch (err) {
      return refuse(callback, err);
    }
    callback();
  };

  const server = new SMTPServer({
    ...serverOptions(config),
    onConnect: (session, callback) => check(callback, () => admission.connect(session.id, session.remoteAddress)),
    onClose: (session) => admission.closed(session.id),
    onMailFrom: (address, _session, callback) => check(callback, () => admission.mailFrom(address.address)),
    onRcptTo: (address, _session, callback) => check(callback, () => admission.rcptTo(address.address)),
    onData(stream, session, callback) {
      // The SMTP transaction is where a mail's trace starts.
      inSpan('smtp receive', { kind: SpanKind.SERVER, attributes: SMTP_RECEIVE }, () => receive(stream, session, receiving)).then(
        (outcome) => {
          received.inc({ outcome });
          callback(null);
        },
        (err: unknown) => refuse(callback, err),
      );
    },
  });
  // smtp-server reports a connection that fails inside a transaction (a sender resetting it
  // during DATA) as an error of the whole server; unheard, it would end the process.
  server.on('error', (err) => logger.warn(errorDetails(err), 'SMTP connection ended by a network error'));
  return server;
}

function serverOptions(config: EmailConfig) {
  const tls = config.SMTP_TLS_CERT_FILE && config.SMTP_TLS_KEY_FILE;
  return {
    name: config.SMTP_HOSTNAME,
    banner: 'contact centre mail exchanger',
    size: config.SMTP_MAX_MESSAGE_BYTES,
    authOptional: true,
    disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    hideSTARTTLS: !tls,
    ...(tls ? { key: readFileSync(config.SMTP_TLS_KEY_FILE!), cert: readFileSync(config.SMTP_TLS_CERT_FILE!) } : {}),
    logger: false,
    // Over this many open connections, smtp-server itself greets with 421 "Too many connected clients".
    maxClients: config.SMTP_MAX_CLIENTS,
    // The client's name from reverse DNS is not used; its look-up would only hold up the greeting.
    disableReverseLookup: true,
    closeTimeout: smtpCloseGraceMs(config),
  };
}
