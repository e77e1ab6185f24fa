// What the desk's page asks of it, route by route: sign-in and sign-out, a worker's actions on
// a conversation, the conversation view with the customer card, and the supervisor's floor.
import type http from 'node:http';
import type { Role } from '#libs/auth';
import type { SessionStore, StaffRoster } from '#libs/staff';
import { ForbiddenError, NotFoundError, readJson, searchRequest, searchRow, sendJson, type StaffSignIn } from '#libs/web';
import type { Backends, Caller } from './backends';
import { cannedRoutes } from './canned-routes';
import type { CannedAnswerStore } from './canned-store';
import { customerRef, forms, parseForm, supervisorReason } from './forms';
import { caller, MAX_BODY_BYTES, type DeskRoutes, type Route } from './http';
import { promiseRoutes } from './promise-routes';
import { openGroups } from './search';
import { DESK_ROLES, signedIn, WORKERS } from './sign-in';
import { agentRow, customerCard, followUpRow, historyItem, presenceValue, queueTable, timeline } from './views';
import { sendAttachment, type AttachmentContent } from './attachments';
import type { CallControls } from './call-controls';
import { voiceRoutes } from './voice-routes';
import { replyFileRoute, type ReplyFileLimits } from './reply-files';
import { outreachRoutes } from './outreach-routes';
import { errorDetails, type Logger } from '#libs/observability';
import { liveCallRows, liveChatRows } from './watch';
import { sendRecording, type RecordingMedia } from './recordings';
import type { VoiceTokenKeys } from './voice-token';
import type { DeliveryBook } from './deliveries';
import type { WhatsAppTemplate } from './whatsapp-templates';

interface DeskRouteDeps {
  signIn: StaffSignIn;
  sessions: SessionStore;
  backends: Backends;
  canned: CannedAnswerStore;
  roster: StaffRoster;
  voiceKeys: VoiceTokenKeys | undefined;
  callControls: CallControls;
  logger: Logger;
  notices: { perSecond: number; maxCustomers: number };
  /** Writing first: the approved WhatsApp templates and the deliveries followed (when the desk follows them). */
  outreach: { whatsappTemplates: WhatsAppTemplate[]; deliveries: DeliveryBook | undefined };
  attachments: AttachmentContent;
  replyFiles: ReplyFileLimits;
  recordings: RecordingMedia;
}

export function deskRoutes(deps: DeskRouteDeps): DeskRoutes {
  const act = actionOf(deps.signIn);
  const canned = cannedRoutes({ ...deps, act });
  const voice = voiceRoutes({ ...deps, act });
  const promise = promiseRoutes({ ...deps, act });
  const outreach = outreachRoutes({
    ...deps,
    ...deps.outreach,
    act,
    noticePerSecond: deps.notices.perSecond,
    noticeMaxCustomers: deps.notices.maxCustomers,
  });
  return {
    get: { ...readingRoutes(deps), ...canned.get, ...outreach.get, ...promise.get },
    post: {
      '/api/sign-in': deps.signIn.signIn,
      '/api/sign-out': deps.signIn.signOut,
      ...actionRoutes(deps.signIn, deps.backends),
      '/api/reply-file': replyFileRoute(deps.signIn, deps.attachments, deps.replyFiles),
      ...canned.post,
      ...voice,
      ...promise.post,
      ...outreach.post,
    },
  };
}

/** A state-changing route: Origin, session and CSRF token, one of `roles`, then the form. */
const actionOf =
  (signIn: StaffSignIn) =>
  (roles: Role[], run: (c: Caller, body: unknown) => Promise<unknown>): Route =>
  async (req, res) => {
    const s = await signIn.changing(req);
    if (!roles.includes(s.role)) throw new ForbiddenError(`a ${s.role} may not do this`);
    const result = await run(caller(s), await readJson(req, MAX_BODY_BYTES));
    sendJson(res, 200, result ?? {});
  };

function actionRoutes(signIn: StaffSignIn, backends: Backends): Record<string, Route> {
  const act = actionOf(signIn);
  return {
    '/api/presence': act(WORKERS, async (c, body) => {
      const { presence } = parseForm(forms.presence, body);
      await backends.setPresence(c, presenceValue(presence));
      return { presence };
    }),
    '/api/accept': act(WORKERS, async (c, body) => backends.accept(c, parseForm(forms.conversation, body).conversationId)),
    '/api/decline': act(WORKERS, async (c, body) => backends.decline(c, parseForm(forms.conversation, body).conversationId)),
    '/api/reply': act(WORKERS, async (c, body) => {
      const f = parseForm(forms.reply, body);
      const { outboundMessageId } = await backends.reply(c, f.conversationId, f.text, f.subject, f.attachments);
      return { outboundMessageId };
    }),
    '/api/escalate': act(['agent'], async (c, body) => {
      const f = parseForm(forms.escalate, body);
      return backends.escalate(c, f.conversationId, f.note, f.skill);
    }),
    '/api/transfer': act(WORKERS, async (c, body) => {
      const f = parseForm(forms.transfer, body);
      return backends.transfer(c, f.conversationId, f.toAgentId, f.toQueue, f.note);
    }),
    '/api/hand-back': act(['expert'], async (c, body) => {
      const f = parseForm(forms.handBack, body);
      return backends.handBack(c, f.conversationId, f.note);
    }),
    '/api/resolve': act(WORKERS, async (c, body) => {
      const f = parseForm(forms.resolve, body);
      return backends.resolve(c, f.conversationId, f.disposition);
    }),
    '/api/reassign': act(['supervisor'], async (c, body) => {
      const f = parseForm(forms.reassign, body);
      return backends.reassign(c, f.conversationId, f.toAgentId);
    }),
    // Opening hours changed without a restart: routing refuses a set that does not parse, whole.
    '/api/calendars': act(['supervisor'], async (c, body) => backends.setCalendars(c, parseForm(forms.calendars, body).calendarsJson)),
  };
}

function readingRoutes({ signIn, sessions, backends, attachments, recordings, callControls, logger }: DeskRouteDeps): Record<string, Route> {
  return {
    // The player's source: customer-record decides per conversation, as for its other contents.
    '/api/recording': async (req, res) => {
      const s = await signIn.session(req);
      if (!DESK_ROLES.includes(s.role)) throw new ForbiddenError(`a ${s.role} may not hear recordings here`);
      const reason = s.role === 'supervisor' ? supervisorReason(new URL(req.url ?? '/', 'http://desk').searchParams.get('reason')) : '';
      await sendRecording({ backends, media: recordings, logger }, caller(s), reason, req, res);
    },
    '/api/attachment': async (req, res) => {
      const s = await signIn.session(req);
      if (!DESK_ROLES.includes(s.role)) throw new ForbiddenError(`a ${s.role} may not open attachments here`);
      const url = new URL(req.url ?? '/', 'http://desk');
      const reason = s.role === 'supervisor' ? supervisorReason(url.searchParams.get('reason')) : '';
      await sendAttachment(backends, attachments, caller(s), url, reason, res);
    },
    '/api/me': async (req, res) => sendJson(res, 200, signedIn(sessions, await signIn.session(req))),
    '/api/conversation': (req, res) => conversationView(signIn, backends, req, res),
    '/api/search': async (req, res) => {
      const s = await signIn.session(req);
      if (!DESK_ROLES.includes(s.role)) throw new ForbiddenError(`a ${s.role} may not search conversations here`);
      const url = new URL(req.url ?? '/', 'http://desk');
      const found = await backends.searchConversations(caller(s), searchRequest(url.searchParams));
      const rows = found.hits.map(searchRow);
      sendJson(res, 200, { rows, next: found.nextPageToken, groups: url.searchParams.get('state') === 'open' ? openGroups(rows) : undefined });
    },
    // The monitor list: open calls from customer-record's search, each call's state from sms-voice.
    '/api/live-calls': async (req, res) => {
      const s = await signIn.session(req);
      if (s.role !== 'supervisor') throw new ForbiddenError('the live calls are for supervisors');
      const rows = await openRows(backends, caller(s), 'voice');
      const calls = await callControls
        .liveCalls(
          caller(s),
          rows.map((r) => r.conversationId),
        )
        .catch((err: unknown) => {
          // The list is still worth having without the states: it says they are unknown, and why.
          logger.warn(errorDetails(err), 'live call states could not be read from sms-voice');
          return undefined;
        });
      sendJson(res, 200, { calls: liveCallRows(rows, calls), ...(calls ? {} : { note: 'the phone service did not answer: states unknown' }) });
    },
    '/api/live-chats': async (req, res) => {
      const s = await signIn.session(req);
      if (s.role !== 'supervisor') throw new ForbiddenError('the live chats are for supervisors');
      sendJson(res, 200, { chats: liveChatRows(await openRows(backends, caller(s), 'chat')) });
    },
    '/api/floor': async (req, res) => {
      const s = await signIn.session(req);
      if (s.role !== 'supervisor') throw new ForbiddenError('the floor view is for supervisors');
      sendJson(res, 200, await floor(backends, caller(s)));
    },
    '/api/calendars': async (req, res) => {
      const s = await signIn.session(req);
      if (s.role !== 'supervisor') throw new ForbiddenError('opening hours are for supervisors');
      sendJson(res, 200, await backends.calendars(caller(s)));
    },
  };
}

/** A conversation's timeline and customer card; a supervisor gives a reason, which is audited. */
async function conversationView(signIn: StaffSignIn, backends: Backends, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const s = await signIn.session(req);
  if (!DESK_ROLES.includes(s.role)) throw new ForbiddenError(`a ${s.role} may not read conversations here`);
  const url = new URL(req.url ?? '/', 'http://desk');
  const { conversationId } = parseForm(forms.conversation, { conversationId: url.searchParams.get('conversationId') ?? '' });
  const reason = s.role === 'supervisor' ? supervisorReason(url.searchParams.get('reason')) : '';
  // Without a customer id or identity, customer-record reads the conversation's own customer.
  const named = url.searchParams.get('customerId') || url.searchParams.get('identityKind') || url.searchParams.get('identity');
  const ref = named ? customerRef(url.searchParams) : null;
  const context = await backends.customerContext(caller(s), ref, conversationId, reason);
  const customerId = context.customer?.customerId;
  if (!customerId) throw new NotFoundError('no customer record for this conversation yet');
  const history = await backends.history(caller(s), customerId, conversationId, reason);
  sendJson(res, 200, { timeline: timeline(history.entries.map(historyItem)), card: customerCard(context) });
}

/** One channel's open conversations (a page of 200), as the supervisor: metadata only, no contents. */
async function openRows(backends: Backends, c: Caller, channel: 'voice' | 'chat') {
  const found = await backends.searchConversations(c, searchRequest(new URLSearchParams({ state: 'open', channel, pageSize: '200' })));
  return found.hits.map(searchRow);
}

export async function floor(backends: Backends, c: Caller) {
  const [agents, queues] = await Promise.all([backends.listAgents(c), backends.queueStats(c)]);
  return { agents: agents.agents.map(agentRow), queues: queueTable(queues.queues), followUps: queues.lowScoreFollowUps.map(followUpRow), at: Date.now() };
}
