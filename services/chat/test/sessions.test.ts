import { afterEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { Registry } from 'prom-client';
import { IdentityKind } from '#libs/proto';
import { originAllowed } from '../src/admission';
import { ConnectedVisitors } from '../src/connected';
import { contactEventId } from '../src/conversation';
import { surveyAnswered, visitorContact } from '../src/events';
import { createFrameHandler } from '../src/frames';
import { chatMetrics } from '../src/metrics';
import type { ChatParts } from '../src/parts';
import { CLOSE, type ServerFrame } from '../src/protocol';
import { VisitorSession, type SessionParts, type VisitorLine } from '../src/session';

const claims = { visitorId: 'v_abcdefgh12', conversationId: 'c_abcdefgh12', reference: 'ABC234', iat: 0, exp: 0 };
const log = pino({ level: 'silent' });

class FakeLine implements VisitorLine {
  readonly sent: ServerFrame[] = [];
  closed?: { code: number; reason: string; countedAs?: string };
  get open() {
    return !this.closed;
  }
  send(frame: ServerFrame) {
    if (this.open) this.sent.push(frame);
  }
  close(code: number, reason: string, countedAs?: string) {
    this.closed = { code, reason, countedAs };
  }
}

function sessionWith(handleFrame: SessionParts['handleFrame'], config: Partial<SessionParts['config']> = {}) {
  const line = new FakeLine();
  const connected = new ConnectedVisitors<VisitorSession>();
  const parts: SessionParts = {
    config: { CHAT_RATE_BURST: 20, CHAT_RATE_PER_SECOND: 5, CHAT_HELLO_TIMEOUT_MS: 10_000, ...config },
    metrics: chatMetrics(new Registry()),
    log,
    connected,
    handleFrame,
  };
  return { line, connected, session: new VisitorSession(line, 'http://shop.example', '127.0.0.1', parts) };
}

afterEach(() => vi.useRealTimers());

describe('connected visitors', () => {
  it('deliver only to the sessions of that conversation, until they leave', () => {
    const connected = new ConnectedVisitors();
    const a = new FakeLine();
    const b = new FakeLine();
    const other = new FakeLine();
    connected.join('c1', a);
    connected.join('c1', b);
    connected.join('c2', other);
    connected.deliver('c1', { type: 'typing' });
    expect([a.sent, b.sent, other.sent]).toEqual([[{ type: 'typing' }], [{ type: 'typing' }], []]);
    connected.leave('c1', a);
    connected.deliver('c1', { type: 'pong' });
    expect(a.sent).toHaveLength(1);
    expect(b.sent).toHaveLength(2);
    connected.leave('c1', b);
    expect([...connected.of('c1')]).toEqual([]);
  });
});

describe('origins', () => {
  it('allow the service’s own demo page and configured pages, nothing else', () => {
    const allowed = new Set(['http://shop.example']);
    expect(originAllowed('http://chat.local:8103', 'chat.local:8103', allowed)).toBe(true);
    expect(originAllowed('http://shop.example', 'chat.local:8103', allowed)).toBe(true);
    expect(originAllowed('http://evil.example', 'chat.local:8103', allowed)).toBe(false);
    expect(originAllowed('', '', allowed)).toBe(false);
  });
});

describe('events from visitor frames', () => {
  it('make a message a contact with a stable id, verified and typed identities apart', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const contact = visitorContact(
      claims,
      { origin: 'http://shop.example', profile: { name: 'Ada', email: 'typed@example.com', phone: '+44 20 7946 0000' }, verifiedEmail: 'proven@example.com' },
      { clientMessageId: 'm1', seq: 3, text: 'hello', at, newConversation: true },
    );
    expect(contact).toMatchObject({
      contactId: contactEventId(claims.visitorId, 'm1'),
      conversationId: claims.conversationId,
      receivedAt: at,
      senderDisplayName: 'Ada',
      newConversation: true,
      conversationReference: 'ABC234',
      externalId: '3',
      channelMetadata: { client_message_id: 'm1', origin: 'http://shop.example' },
    });
    expect(contact.identityHints).toEqual([{ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'proven@example.com', namespace: '' }]);
    expect(contact.claimedIdentities.map((i) => i.value)).toEqual(['typed@example.com', '+44 20 7946 0000']);
  });

  it('make a survey answer one event per conversation', () => {
    const event = surveyAnswered('c1', 'How was it?', 4, undefined, new Date());
    expect(event.eventId).toBe(surveyAnswered('c1', 'other', 1, 'x', new Date()).eventId);
    expect(event.step).toEqual({ $case: 'surveyAnswered', surveyAnswered: { question: 'How was it?', score: 4, comment: '', agentId: '', queue: '' } });
  });
});

describe('a visitor session', () => {
  it('handles frames one after the other and answers a failure with an internal error', async () => {
    const seen: string[] = [];
    const { session, line } = sessionWith(async (_s, raw) => {
      if (raw === 'boom') throw new Error('boom');
      await new Promise((r) => setTimeout(r, raw === 'slow' ? 20 : 0));
      seen.push(raw);
    });
    session.received('slow');
    session.received('boom');
    session.received('fast');
    await vi.waitFor(() => expect(seen).toEqual(['slow', 'fast']));
    expect(line.sent).toEqual([{ type: 'error', code: 'internal', message: 'the service could not handle this frame; try again' }]);
    session.left();
  });

  it('closes with 1008 over its rate and when no hello came in time', () => {
    vi.useFakeTimers();
    const limited = sessionWith(async () => undefined, { CHAT_RATE_BURST: 2 });
    limited.session.received('a');
    limited.session.received('b');
    expect(limited.line.closed).toBeUndefined();
    limited.session.received('c');
    expect(limited.line.closed).toEqual({ code: CLOSE.policyViolation, reason: 'rate limit exceeded', countedAs: undefined });
    limited.session.left();

    const silent = sessionWith(async () => undefined);
    vi.advanceTimersByTime(10_000);
    expect(silent.line.closed?.reason).toBe('no hello');
    const greeted = sessionWith(async () => undefined);
    greeted.session.helloReceived();
    vi.advanceTimersByTime(10_000);
    expect(greeted.line.closed).toBeUndefined();
  });

  it('leaves its conversation when the socket closes', () => {
    const { session, connected } = sessionWith(async () => undefined);
    session.claims = claims;
    connected.join(claims.conversationId, session);
    session.left();
    expect([...connected.of(claims.conversationId)]).toEqual([]);
  });
});

describe('frames after hello', () => {
  const saved: unknown[] = [];
  const parts = {
    metrics: chatMetrics(new Registry()),
    store: { saveProfile: async (_owner: unknown, profile: unknown) => void saved.push(profile) },
  } as unknown as ChatParts;
  const handleFrame = createFrameHandler(parts);

  it('answer a ping, drop typing, keep a profile and refuse what is not a frame', async () => {
    const { session, line } = sessionWith(handleFrame);
    session.claims = claims;
    session.helloReceived();
    await handleFrame(session, JSON.stringify({ type: 'ping' }));
    await handleFrame(session, JSON.stringify({ type: 'typing' }));
    await handleFrame(session, JSON.stringify({ type: 'profile', name: ' Ada ', email: 'not an address' }));
    await handleFrame(session, 'not json');
    expect(line.sent).toEqual([{ type: 'pong' }, { type: 'error', code: 'invalid-frame', message: 'frame is not valid JSON' }]);
    expect(session.profile).toEqual({ name: 'Ada' });
    expect(saved).toEqual([{ name: 'Ada' }]);
  });
});
