// Who may call what, declared once: every gRPC method of customer-record and routing, and every
// API route of the agent desk and the ops console, against every kind of caller. The test runs
// each cell against the real services; a method or route that exists without an entry here
// fails it, so nothing new goes out without a decision on who may use it.

/** People by role, and services by name (a service token's id is the calling service's name). */
export const GRPC_CALLERS = ['agent', 'expert', 'supervisor', 'ops', 'privacy', 'service:routing', 'service:sms-voice', 'service:ops-console'] as const;
export type GrpcCaller = (typeof GRPC_CALLERS)[number];

/** Staff who sign in to a browser application. */
export const STAFF_CALLERS = ['agent', 'expert', 'supervisor', 'ops'] as const;
export type StaffCaller = (typeof STAFF_CALLERS)[number];

export interface GrpcEntry {
  allowed: readonly GrpcCaller[];
  /** Each allowed read is written to customer-record's audit log before it is answered. */
  audited?: boolean;
}

/** `public`: reached before any session (sign-in); otherwise the staff allowed past the role check. */
export type HttpEntry = 'public' | readonly StaffCaller[];

const WORKERS = ['agent', 'expert'] as const;
const STAFF = ['agent', 'expert', 'supervisor', 'ops'] as const;

export const CUSTOMER_RECORD: Record<string, GrpcEntry> = {
  // Agents reach customers through their conversations, never by looking an identity up.
  ResolveCustomer: { allowed: ['supervisor'], audited: true },
  GetCustomer: { allowed: STAFF, audited: true },
  GetHistory: { allowed: STAFF, audited: true },
  // Routing reads a contact's flags and account manager; no other service reads customers.
  GetCustomerContext: { allowed: [...STAFF, 'service:routing'], audited: true },
  LinkIdentity: { allowed: [...WORKERS, 'supervisor'] },
  SetFlag: { allowed: ['supervisor'] },
  MergeCustomers: { allowed: ['supervisor'] },
  UnmergeCustomer: { allowed: ['supervisor'] },
  UpsertAccount: { allowed: ['supervisor'] },
  ListAudit: { allowed: ['supervisor'] },
  // Who may speak for a customer is a supervisor's decision.
  UpsertIntermediary: { allowed: ['supervisor'] },
  GrantMandate: { allowed: ['supervisor'] },
  RevokeMandate: { allowed: ['supervisor'] },
  // Agents and experts find only conversations they may read, ops metadata only; of the services
  // only the integration API (not a caller here), for ended conversations and metadata only.
  SearchConversations: { allowed: STAFF, audited: true },
  // Files are contents: the people who read the conversation; each opening and refusal audited
  // (services/customer-record/test/attachments.integration.test.ts), never ops or a service.
  OpenAttachment: { allowed: [...WORKERS, 'supervisor'] },
  // Data-protection requests are the data-protection officer's, who may call nothing else.
  ExportCustomer: { allowed: ['privacy'], audited: true },
  EraseCustomer: { allowed: ['privacy'] },
  // The officer finds the customer a request is about, and takes an export of any size in pieces.
  FindCustomers: { allowed: ['privacy'], audited: true },
  StreamCustomerExport: { allowed: ['privacy'], audited: true },
};

export const ROUTING: Record<string, GrpcEntry> = {
  RegisterAgent: { allowed: [...WORKERS, 'supervisor'] },
  SetPresence: { allowed: [...WORKERS, 'supervisor'] },
  WatchAssignments: { allowed: WORKERS },
  AcceptOffer: { allowed: WORKERS },
  DeclineOffer: { allowed: WORKERS },
  Reply: { allowed: WORKERS },
  Escalate: { allowed: WORKERS },
  Transfer: { allowed: WORKERS },
  HandBack: { allowed: ['expert'] },
  Resolve: { allowed: WORKERS },
  Reassign: { allowed: ['supervisor'] },
  // sms-voice tells callers their place in the queue; the ops console charts the queues.
  GetWaitEstimate: { allowed: [...STAFF, 'service:sms-voice'] },
  GetQueueStats: { allowed: [...STAFF, 'service:ops-console'] },
  ListAgents: { allowed: STAFF },
  // Opening hours are a supervisor's to read and change.
  GetCalendars: { allowed: ['supervisor'] },
  SetCalendars: { allowed: ['supervisor'] },
  // A long case's promise: the agent or expert holding the conversation (routing checks it), or a supervisor.
  SetPromise: { allowed: [...WORKERS, 'supervisor'] },
  GetPromise: { allowed: [...WORKERS, 'supervisor'] },
  // Only the integration API, for the application of an API key (services/integration-api): no person, no other service.
  ListConversations: { allowed: [] },
  GetConversation: { allowed: [] },
  PostApplicationMessage: { allowed: [] },
  AddNote: { allowed: [] },
  ResolveForApplication: { allowed: [] },
  TransferForApplication: { allowed: [] },
  // The integration API for an application, and people at the desk writing first to a customer.
  StartConversation: { allowed: [...WORKERS, 'supervisor'] },
};

export const AGENT_DESK: Record<string, HttpEntry> = {
  'POST /api/sign-in': 'public',
  // ops staff use the ops console: the desk does not sign them in.
  'POST /api/sign-out': [...WORKERS, 'supervisor'],
  'GET /api/me': [...WORKERS, 'supervisor'],
  'GET /api/conversation': [...WORKERS, 'supervisor'],
  // customer-record decides per file and conversation, as for the conversation itself.
  'GET /api/attachment': [...WORKERS, 'supervisor'],
  // A call's recording, played through the desk: customer-record decides per conversation, as for its text.
  'GET /api/recording': [...WORKERS, 'supervisor'],
  'GET /api/floor': ['supervisor'],
  // customer-record narrows what each finds: agents and experts only conversations they may read.
  'GET /api/search': [...WORKERS, 'supervisor'],
  'POST /api/presence': WORKERS,
  'POST /api/accept': WORKERS,
  'POST /api/decline': WORKERS,
  'POST /api/reply': WORKERS,
  'POST /api/reply-file': WORKERS,
  'POST /api/escalate': ['agent'],
  'POST /api/transfer': WORKERS,
  'POST /api/hand-back': ['expert'],
  'POST /api/resolve': WORKERS,
  'POST /api/reassign': ['supervisor'],
  // Everyone keeps personal canned answers; the store refuses a non-supervisor's change to a shared one.
  'GET /api/canned': [...WORKERS, 'supervisor'],
  'GET /api/canned/audit': ['supervisor'],
  'POST /api/canned/create': [...WORKERS, 'supervisor'],
  'POST /api/canned/update': [...WORKERS, 'supervisor'],
  'POST /api/canned/delete': [...WORKERS, 'supervisor'],
  'POST /api/canned/fill': WORKERS,
  // Only the agent or expert on the call; sms-voice checks it is bridged to them.
  'POST /api/voice/token': WORKERS,
  'POST /api/call/control': WORKERS,
  'POST /api/call/monitor': ['supervisor'],
  // The live calls a supervisor may monitor (customer-record's search, metadata only; each call's state from sms-voice).
  'GET /api/live-calls': ['supervisor'],
  // The open chats a supervisor may watch silently (customer-record's search, metadata only).
  'GET /api/live-chats': ['supervisor'],
  // Writing first: agents and experts to the customers of their conversations (customer-record
  // checks the read), supervisors to any; notices to lists are a supervisor's.
  'POST /api/outreach/start': [...WORKERS, 'supervisor'],
  'POST /api/outreach/notice': ['supervisor'],
  'GET /api/outreach/notice': ['supervisor'],
  // What became of a person's own write (its id is made from the person), and the approved WhatsApp templates.
  'GET /api/outreach/delivery': [...WORKERS, 'supervisor'],
  'GET /api/outreach/whatsapp-templates': [...WORKERS, 'supervisor'],
  // Opening hours, read and replaced through routing's GetCalendars and SetCalendars.
  'GET /api/calendars': ['supervisor'],
  'POST /api/calendars': ['supervisor'],
  // A long case's promise, through routing's GetPromise and SetPromise.
  'GET /api/promise': [...WORKERS, 'supervisor'],
  'POST /api/promise': [...WORKERS, 'supervisor'],
};

export const OPS_CONSOLE: Record<string, HttpEntry> = {
  'POST /api/sign-in': 'public',
  // Agents and experts work in the desk: the console does not sign them in.
  'POST /api/sign-out': ['supervisor', 'ops'],
  'GET /api/session': ['supervisor', 'ops'],
  'GET /api/stream': ['supervisor', 'ops'],
  'GET /api/charts': ['supervisor', 'ops'],
  // Figures about the service and its staff, no customer data: both roles of the console.
  'GET /api/reports': ['supervisor', 'ops'],
  'GET /api/reports.csv': ['supervisor', 'ops'],
  'GET /api/reports/card': ['supervisor', 'ops'],
  'GET /api/conversations/:id/timeline': ['supervisor', 'ops'],
  'GET /api/dead-letters': ['supervisor', 'ops'],
  // customer-record gives ops metadata only.
  'GET /api/search': ['supervisor', 'ops'],
  'POST /api/dead-letters/:partition/:offset/replay': ['ops'],
  // The data-protection officer's page: the privacy role only (not a caller of this matrix).
  'GET /api/privacy/session': [],
  'GET /api/privacy/customers': [],
  'GET /api/privacy/customers/:id/export': [],
  'POST /api/privacy/customers/:id/erase': [],
};
