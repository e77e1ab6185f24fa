// Wiring of the chat channel: HTTP (widget, demo page, ops paths), the WebSocket endpoint,
// visitor messages into Kafka, and outbound messages from Kafka to whichever socket is here.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { ISocketFactory } from 'kafkajs';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { KafkaUnavailableError, InvalidEventError, topics } from '../../../libs/kafka';
import { closeServer, createOpsHandler, errorDetails, listen, sharedCounter, sharedHistogram } from '../../../libs/observability';
import { Channel, ContactKind, ContactReceived, ConversationEvent, IdentityKind, type OutboundMessage } from '../../../libs/proto';
import { connectKafka, connectMongo, type ServiceContext } from '../../../libs/service';
import type { ChatConfig } from './config';
import { contactEventId, newId, newReference, outboundEffect, surveyEventId, waitFrame } from './conversation';
import { CLOSE, FrameError, parseClientFrame, parseHello, profileClaims, type ServerFrame, type VisitorProfile } from './protocol';
import { TokenBucket } from './rate-limit';
import { AdmissionRefused, ChatAdmission } from './admission';
import { clientAddress } from '../../../libs/web';
import { ChatStore, toEntry, type ConversationDoc, type MessageDoc } from './store';
import { InvalidTokenError, issueVisitorToken, verifyVisitorToken, type VisitorClaims } from './token';
import { VerificationError } from './verification';
import { VerificationStore } from './verification-store';
import { createVerifier, verificationErrorFrame } from './verify';
import { contactIdentities } from './identities';

const WIDGET_JS = readFileSync(new URL('../public/widget.js', import.meta.url), 'utf8');
const DEMO_HTML = readFileSync(new URL('../public/demo.html', import.meta.url), 'utf8');

export interface ChatOverrides {
  socketFactory?: ISocketFactory;
  /** Collection name prefix, so tests keep their data apart. */
  collectionPrefix?: string;
}

export interface ChatService {
  port: number;
  store: ChatStore;
  /** Open visitor sockets on this instance. */
  connections(): number;
}

interface Session {
  ws: WebSocket;
  claims?: VisitorClaims;
  origin: string;
  /** The client's address (through trusted proxies), for the caps per address. */
  address: string;
  bucket: TokenBucket;
  /** Frames of one connection are handled one after the other, so acks keep the order. */
  chain: Promise<void>;
  helloTimer?: NodeJS.Timeout;
  /**
   * What the visitor typed about themselves as this session knows it (stored at hello, then
   * from its profile frames): read once, not for every message, since reads cost on the local
   * store. Claims only: anybody can type anybody's address.
   */
  profile: VisitorProfile;
  /** The email this conversation's visitor proved with a mailed code, if any: an identity. */
  verifiedEmail?: string;
}

export async function startChat(ctx: ServiceContext, config: ChatConfig, overrides: ChatOverrides = {}): Promise<ChatService> {
  const log = ctx.logger.child({ component: 'chat' });
  const { db } = await connectMongo(ctx, config);
  const store = new ChatStore(db, overrides.collectionPrefix, { staleClaimMs: config.CHAT_PUBLISH_TIMEOUT_MS + 10_000 });
  await store.init();
  const codes = new VerificationStore(db, overrides.collectionPrefix);
  await codes.init();
  const kafka = await connectKafka(ctx, config, { publishTimeoutMs: config.CHAT_PUBLISH_TIMEOUT_MS, socketFactory: overrides.socketFactory });

  const frames = sharedCounter(ctx.metrics, { name: 'cc_chat_frames_total', help: 'Frames from visitors, by outcome', labelNames: ['outcome'] });
  const closes = sharedCounter(ctx.metrics, { name: 'cc_chat_closed_total', help: 'Connections closed by the service, by reason', labelNames: ['reason'] });
  const ackLatency = sharedHistogram(ctx.metrics, {
    name: 'cc_chat_ack_seconds',
    help: 'Visitor message received to ack sent (includes the Kafka acknowledgement)',
    labelNames: [],
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5],
  });

  const verifier = createVerifier({
    config,
    store,
    codes,
    publish: async (message) => {
      await kafka.producer.publish(topics.outbound, message.conversationId, message, { id: message.messageId });
    },
  });

  /** Sockets on this instance by conversation: only these ever receive that conversation's frames. */
  const byConversation = new Map<string, Set<Session>>();
  const send = (s: Session, frame: ServerFrame) => {
    if (s.ws.readyState === s.ws.OPEN) s.ws.send(JSON.stringify(frame));
  };
  const deliver = (conversationId: string, frame: ServerFrame) => {
    for (const s of byConversation.get(conversationId) ?? []) send(s, frame);
  };
  const closeWith = (s: Session, code: number, reason: string) => {
    closes.inc({ reason });
    s.ws.close(code, reason);
  };

  const admission = new ChatAdmission({
    socketsPerAddress: config.CHAT_MAX_SOCKETS_PER_ADDRESS,
    socketsTotal: config.CHAT_MAX_SOCKETS,
    conversationsPerAddress: config.CHAT_MAX_NEW_CONVERSATIONS_PER_ADDRESS,
    conversationsTotal: config.CHAT_MAX_NEW_CONVERSATIONS,
    conversationWindowMs: config.CHAT_NEW_CONVERSATIONS_WINDOW_MS,
  });
  const refused = (ws: WebSocket, err: AdmissionRefused) => {
    closes.inc({ reason: err.limit });
    log.warn({ limit: err.limit }, 'chat admission refused');
    ws.close(err.code, err.reason);
  };

  // --- HTTP -----------------------------------------------------------------------------------
  // Visitors' browsers reach this port: /metrics needs the bearer token here.
  const ops = createOpsHandler(ctx.metrics, ctx.readiness, { publicPort: { metricsToken: config.METRICS_TOKEN } });
  const server = http.createServer((req, res) => {
    if (ops(req, res)) return;
    const path = (req.url ?? '/').split('?')[0];
    const common = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
    if ((req.method === 'GET' || req.method === 'HEAD') && path === '/widget.js') {
      res.writeHead(200, { ...common, 'content-type': 'application/javascript; charset=utf-8', 'cache-control': 'public, max-age=300' }).end(WIDGET_JS);
      return;
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && (path === '/' || path === '/demo')) {
      res
        .writeHead(200, {
          ...common,
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        })
        .end(DEMO_HTML);
      return;
    }
    res.writeHead(404, { ...common, 'content-type': 'text/plain' }).end('not found');
  });

  // --- WebSocket ------------------------------------------------------------------------------
  const allowed = new Set(config.CHAT_ALLOWED_ORIGINS);
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.CHAT_MAX_FRAME_BYTES, perMessageDeflate: false });
  const refuse = (socket: Duplex, status: number, text: string) => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
  };
  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/chat') return refuse(socket, 404, 'Not Found');
    const origin = req.headers.origin ?? '';
    // The service's own demo page is always allowed; any other page must be configured.
    const ownOrigin = `http://${req.headers.host ?? ''}`;
    if (!origin || (origin !== ownOrigin && !allowed.has(origin))) {
      closes.inc({ reason: 'origin' });
      log.warn({ origin: origin.slice(0, 200) }, 'WebSocket refused: origin not allowed');
      return refuse(socket, 403, 'Forbidden');
    }
    const address = clientAddress(req, config.TRUSTED_PROXIES);
    // Accepted first, then closed if over a cap: only a close code reaches the widget.
    wss.handleUpgrade(req, socket, head, (ws) => {
      try {
        admission.openSocket(address);
      } catch (err) {
        if (err instanceof AdmissionRefused) return refused(ws, err);
        throw err;
      }
      ws.once('close', () => admission.closeSocket(address));
      onConnection(ws, origin, address);
    });
  });

  function onConnection(ws: WebSocket, origin: string, address: string): void {
    const session: Session = { ws, origin, address, bucket: new TokenBucket(config.CHAT_RATE_BURST, config.CHAT_RATE_PER_SECOND, Date.now()), chain: Promise.resolve(), profile: {} };
    session.helloTimer = setTimeout(() => closeWith(session, CLOSE.policyViolation, 'no hello'), config.CHAT_HELLO_TIMEOUT_MS);
    ws.on('error', (err) => log.debug(errorDetails(err), 'visitor socket error'));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return closeWith(session, CLOSE.unsupportedData, 'text frames only');
      if (!session.bucket.take(Date.now())) {
        frames.inc({ outcome: 'rate-limited' });
        return closeWith(session, CLOSE.policyViolation, 'rate limit exceeded');
      }
      const raw = data.toString();
      session.chain = session.chain.then(() => handleFrame(session, raw)).catch((err: unknown) => {
        log.error(errorDetails(err), 'handling a visitor frame failed');
        send(session, { type: 'error', code: 'internal', message: 'the service could not handle this frame; try again' });
      });
    });
    ws.on('close', () => {
      clearTimeout(session.helloTimer);
      const claims = session.claims;
      if (!claims) return;
      const set = byConversation.get(claims.conversationId);
      set?.delete(session);
      if (set && set.size === 0) byConversation.delete(claims.conversationId);
    });
  }

  async function handleFrame(session: Session, raw: string): Promise<void> {
    if (!session.claims) return handleHello(session, raw);
    let frame;
    try {
      frame = parseClientFrame(raw);
    } catch (err) {
      frames.inc({ outcome: 'invalid' });
      send(session, { type: 'error', code: 'invalid-frame', message: (err as Error).message });
      return;
    }
    const claims = session.claims;
    switch (frame.type) {
      case 'ping':
        return send(session, { type: 'pong' });
      case 'typing':
        return; // No contract carries the visitor's typing yet; accepted and dropped.
      case 'profile': {
        const typed = profileClaims(frame);
        session.profile = { ...session.profile, ...typed };
        await store.saveProfile(claims, typed);
        return;
      }
      case 'verify-email':
        return handleVerification(session, async () => {
          session.profile = { ...session.profile, email: frame.email };
          await store.saveProfile(claims, { email: frame.email });
          return verifier.requestCode(claims, frame.email);
        });
      case 'verify-code':
        return handleVerification(session, async () => {
          const email = await verifier.checkCode(claims, frame.code);
          // Every open tab of this conversation here publishes it from now on.
          for (const s of byConversation.get(claims.conversationId) ?? []) {
            s.verifiedEmail = email;
            if (s !== session) send(s, { type: 'verified', email });
          }
          session.verifiedEmail = email;
          return { type: 'verified', email };
        });
      case 'message':
        return handleMessage(session, claims, frame.clientMessageId, frame.text);
      case 'survey-answer':
        return handleSurvey(session, claims, frame.score, frame.comment);
    }
  }

  async function handleHello(session: Session, raw: string): Promise<void> {
    let hello;
    try {
      hello = parseHello(raw);
    } catch (err) {
      frames.inc({ outcome: 'invalid' });
      return closeWith(session, CLOSE.policyViolation, (err as FrameError).message.slice(0, 120));
    }
    clearTimeout(session.helloTimer);
    const typed = profileClaims(hello);
    let claims: VisitorClaims;
    let token: string;
    let conversation: ConversationDoc | null = null;
    let resumed = false;
    if (hello.token !== undefined) {
      try {
        claims = verifyVisitorToken(config.CHAT_TOKEN_SECRET, hello.token);
      } catch (err) {
        frames.inc({ outcome: 'bad-token' });
        return closeWith(session, CLOSE.policyViolation, err instanceof InvalidTokenError ? `invalid token: ${err.reason}` : 'invalid token');
      }
      // No stored conversation is fine: the token is ours and nothing was written yet.
      let stored;
      [conversation, stored, session.verifiedEmail] = await Promise.all([
        store.getConversation(claims.conversationId),
        store.profile(claims.conversationId),
        store.fact(claims.conversationId, 'verifiedEmail'),
      ]);
      session.profile = stored;
      if (conversation && conversation.visitorId !== claims.visitorId) {
        frames.inc({ outcome: 'bad-token' });
        return closeWith(session, CLOSE.policyViolation, 'invalid token: conversation belongs to another visitor');
      }
      token = hello.token;
      resumed = true;
    } else {
      try {
        admission.startConversation(session.address, Date.now());
      } catch (err) {
        if (err instanceof AdmissionRefused) return refused(session.ws, err);
        throw err;
      }
      // A new visitor: nothing is stored until the first message or profile.
      const identity = { visitorId: newId('v'), conversationId: newId('c'), reference: newReference() };
      token = issueVisitorToken(config.CHAT_TOKEN_SECRET, identity, config.CHAT_TOKEN_TTL_SECONDS);
      claims = verifyVisitorToken(config.CHAT_TOKEN_SECRET, token);
    }
    session.profile = { ...session.profile, ...typed };
    await store.saveProfile(claims, typed);
    const lastSeq = conversation ? await store.lastNumber(claims.conversationId) : 0;
    if (session.ws.readyState !== session.ws.OPEN) return;
    // Joined and welcomed with no wait between, so no live entry reaches the socket before its
    // welcome; what was stored meanwhile comes with the replay below.
    session.claims = claims;
    let set = byConversation.get(claims.conversationId);
    if (!set) byConversation.set(claims.conversationId, (set = new Set()));
    set.add(session);
    send(session, { type: 'welcome', token, conversationId: claims.conversationId, reference: claims.reference, resumed, lastSeq });
    if (session.verifiedEmail) send(session, { type: 'verified', email: session.verifiedEmail });
    if (resumed) {
      for (const doc of await store.entriesAfter(claims.conversationId, hello.lastSeq)) send(session, toEntry(doc));
      if (conversation) {
        const [ended, wait, opened] = await Promise.all([store.fact(claims.conversationId, 'ended'), store.fact(claims.conversationId, 'wait'), store.isOpened(claims.conversationId)]);
        if (opened && !ended) send(session, waitFrame(wait, config.CHAT_SLA_TARGET_MS));
      }
    }
  }

  async function handleMessage(session: Session, claims: VisitorClaims, clientMessageId: string, text: string): Promise<void> {
    const started = process.hrtime.bigint();
    // The message is claimed under its key, numbered by a unique insert, published, and only
    // once Kafka acknowledged it marked accepted and acked. A resend finds the claim: acked
    // already, it gets the same ack; refused by Kafka before, it is published again with the
    // same number and ce_id, so numbers stay 1, 2, 3… on every instance.
    const draft: MessageDoc = { _id: `${claims.conversationId}/c/${clientMessageId}`, conversationId: claims.conversationId, seq: 0, from: 'visitor', kind: 'message', text, clientMessageId, at: new Date(), accepted: false };
    const [stored] = await Promise.all([store.claim(draft), store.ensureConversation(claims)]);
    if (stored?.accepted) return acked(session, clientMessageId, stored.seq, started);
    const doc = stored ?? { ...draft, ...(await store.number(draft)) };
    const numbered = { seq: doc.seq, newConversation: doc.newConversation ?? false };
    const identities = contactIdentities(session.profile, session.verifiedEmail);
    const id = contactEventId(claims.visitorId, clientMessageId);
    const contact = ContactReceived.fromPartial({
      contactId: id,
      conversationId: claims.conversationId,
      channel: Channel.CHANNEL_CHAT,
      kind: ContactKind.CONTACT_KIND_MESSAGE,
      receivedAt: doc.at,
      sender: { kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: claims.visitorId },
      senderDisplayName: session.profile.name ?? '',
      recipient: { kind: IdentityKind.IDENTITY_KIND_OTHER, namespace: 'chat-site', value: session.origin },
      newConversation: numbered.newConversation,
      conversationReference: claims.reference,
      text: doc.text,
      identityHints: identities.verified,
      claimedIdentities: identities.claimed,
      externalId: String(doc.seq),
      channelMetadata: { client_message_id: clientMessageId, origin: session.origin },
    });
    try {
      await kafka.producer.publish(topics.contactInbound, claims.conversationId, contact, { id, time: doc.at });
    } catch (err) {
      if (!(err instanceof KafkaUnavailableError)) throw err;
      // The number stays with the message: its resend takes it again.
      if (!stored) await store.markNumbered(doc._id, { ...numbered, accepted: false });
      frames.inc({ outcome: 'not-accepted' });
      log.warn({ conversationId: claims.conversationId, ...errorDetails(err) }, 'visitor message not accepted: Kafka unavailable');
      send(session, { type: 'error', code: 'not-accepted', clientMessageId, message: 'The message could not be accepted right now; it will be sent again.' });
      return;
    }
    await store.markNumbered(doc._id, { ...numbered, accepted: true });
    acked(session, clientMessageId, doc.seq, started);
    if (numbered.newConversation) deliver(claims.conversationId, waitFrame(await store.fact(claims.conversationId, 'wait'), config.CHAT_SLA_TARGET_MS));
  }

  /** Runs a verification step and answers with its frame, or the refusal's own error frame. */
  async function handleVerification(session: Session, step: () => Promise<ServerFrame>): Promise<void> {
    try {
      send(session, await step());
      frames.inc({ outcome: 'verification' });
    } catch (err) {
      if (err instanceof VerificationError) {
        frames.inc({ outcome: err.code });
        return send(session, verificationErrorFrame(err));
      }
      if (!(err instanceof KafkaUnavailableError)) throw err;
      frames.inc({ outcome: 'not-accepted' });
      send(session, { type: 'error', code: 'not-accepted', message: 'The code could not be sent right now; try again in a minute.' });
    }
  }

  function acked(session: Session, clientMessageId: string, seq: number, started: bigint): void {
    frames.inc({ outcome: 'accepted' });
    send(session, { type: 'ack', clientMessageId, seq });
    ackLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  async function handleSurvey(session: Session, claims: VisitorClaims, score: number, comment: string | undefined): Promise<void> {
    const surveyQuestion = await store.fact(claims.conversationId, 'surveyQuestion');
    if (!surveyQuestion) {
      send(session, { type: 'error', code: 'invalid-frame', message: 'no survey was offered in this conversation' });
      return;
    }
    const eventId = surveyEventId(claims.conversationId);
    const event = ConversationEvent.fromPartial({
      eventId,
      conversationId: claims.conversationId,
      occurredAt: new Date(),
      channel: Channel.CHANNEL_CHAT,
      reason: { code: 'chat.survey_answered', text: 'the visitor answered the satisfaction survey in the chat widget' },
      step: { $case: 'surveyAnswered', surveyAnswered: { question: surveyQuestion, score, comment: comment ?? '' } },
    });
    try {
      await kafka.producer.publish(topics.conversationEvents, claims.conversationId, event, { id: eventId });
    } catch (err) {
      if (!(err instanceof KafkaUnavailableError)) throw err;
      send(session, { type: 'error', code: 'not-accepted', message: 'The survey answer could not be accepted right now; try again.' });
      return;
    }
    send(session, { type: 'survey-ack' });
  }

  // --- Outbound: every instance reads every record, the one holding the socket delivers -------
  async function onOutbound(message: OutboundMessage, eventId: string): Promise<void> {
    if (message.channel !== Channel.CHANNEL_CHAT) return;
    if (!message.conversationId) throw new InvalidEventError('chat outbound message has no conversation_id');
    const effect = outboundEffect(message);
    if (effect.action === 'ignore') return;
    const conversation = await store.getConversation(message.conversationId);
    if (!conversation) {
      log.debug({ conversationId: message.conversationId }, 'outbound message for a conversation this service does not know');
      return;
    }
    if (effect.action === 'transient') {
      if (effect.wait) await store.setFact(conversation._id, 'wait', effect.wait);
      deliver(conversation._id, effect.frame);
      return;
    }
    const doc = await store.storeOnce({ _id: `${conversation._id}/o/${message.messageId || eventId}`, conversationId: conversation._id, ...effect.entry, at: message.createdAt ?? new Date(), accepted: true });
    if (effect.ends) await store.setFact(conversation._id, 'ended', true);
    if (effect.entry.kind === 'survey') await store.setFact(conversation._id, 'surveyQuestion', doc.text);
    deliver(conversation._id, toEntry(doc));
  }

  const consumer = kafka.consumer({ groupId: `chat-outbound-${ctx.instanceId}`, fromBeginning: false });
  consumer.on(topics.outbound, ({ value, event }) => onOutbound(value, event.id));
  await consumer.start();

  const port = await listen(server, config.HTTP_PORT, config.BIND_HOST);
  ctx.onStop('chat http', async () => {
    for (const client of wss.clients) client.close(CLOSE.goingAway, 'server stopping');
    wss.close();
    await closeServer(server);
  });
  log.info({ port }, 'chat listening');
  return { port, store, connections: () => wss.clients.size };
}
