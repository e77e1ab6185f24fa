// Writing first to customers from the desk. A person writes to the customer of a conversation
// they hold or held lately (customer-record authorises and audits the read of that customer, and
// the address must be one it verified); a supervisor sends a notice to a list of customers, one
// tracked conversation each, paced to DESK_NOTICE_PER_SECOND. Routing sends each first message
// and brings the customer's answer back to the writer's queue.
import { status } from '@grpc/grpc-js';
import type { Role } from '#libs/auth';
import { CHANNEL_ENUM, newConversationReference, recipientIdentity, recipientRefusal, verifiedRecipient } from '#libs/contact';
import type { Logger } from '#libs/observability';
import { type Customer, type Identity, StartConversationRequest } from '#libs/proto';
import { BadRequestError, ForbiddenError, NotFoundError, sendJson, type StaffSignIn } from '#libs/web';
import { BackendError, type Backends, type Caller } from './backends';
import { FormError, parseForm } from './forms';
import type { Route } from './http';
import { deskConversationId, newProgress, noticeConversationId, recordOutcome, sendAt, type NoticeProgress } from './outreach';
import { outreachForms } from './outreach-forms';

interface OutreachDeps {
  backends: Backends;
  signIn: StaffSignIn;
  logger: Logger;
  noticePerSecond: number;
  noticeMaxCustomers: number;
  act(roles: Role[], run: (c: Caller, body: unknown) => Promise<unknown>): Route;
}

/** People who write first: agents and experts to their own customers, supervisors to any. */
const WRITERS: Role[] = ['agent', 'expert', 'supervisor'];

/** The address is not one customer-record verified for the conversation's customer. */
class RecipientRefusedError extends BadRequestError {}

function customerOf(answer: { customer?: Customer }): Customer {
  if (!answer.customer) throw new NotFoundError('the conversation has no customer on record');
  return answer.customer;
}

export function outreachRoutes(deps: OutreachDeps): { get: Record<string, Route>; post: Record<string, Route> } {
  const { backends, act } = deps;
  const notices = new Map<string, NoticeProgress>();

  /** Routing's StartConversation for one customer: the first message, from the person, a new reference. */
  const writeFirst = (
    c: Caller,
    w: {
      conversationId: string;
      customer: Customer;
      recipient: Identity;
      form: { channel: 'email' | 'sms'; subject: string; text: string; skill: string };
      noticeId: string;
    },
  ) =>
    backends.startConversation(
      c,
      StartConversationRequest.fromPartial({
        conversationId: w.conversationId,
        channel: CHANNEL_ENUM[w.form.channel],
        customerId: w.customer.customerId,
        recipient: w.recipient,
        subject: w.form.subject,
        text: w.form.text,
        reference: newConversationReference(),
        skill: w.form.skill,
        noticeId: w.noticeId,
      }),
    );

  const start = async (c: Caller, body: unknown) => {
    const f = parseForm(outreachForms.start, body);
    const reason = c.role === 'supervisor' ? `writes first to the customer of ${f.fromConversationId}` : '';
    const customer = customerOf(await backends.customerContext(c, null, f.fromConversationId, reason));
    const recipient = recipientIdentity(f.channel, f.to);
    const refused = recipientRefusal(customer, recipient);
    if (refused) throw new RecipientRefusedError(`to: ${refused}`);
    const started = await writeFirst(c, { conversationId: deskConversationId(c.id, f.requestId), customer, recipient, form: f, noticeId: '' });
    return { conversationId: started.conversation?.conversationId ?? '', outboundMessageId: started.outboundMessageId, created: started.created };
  };

  /** One customer of a notice: read (audited, with the notice as the reason), then started. */
  const noticeOne = async (c: Caller, f: ReturnType<typeof outreachForms.notice.parse>, customerId: string, progress: NoticeProgress) => {
    try {
      const customer = customerOf(await backends.customerContext(c, { customerId }, '', `notice ${f.noticeId}`));
      const recipient = verifiedRecipient(customer, f.channel);
      if (!recipient) return recordOutcome(progress, customerId, 'skipped', `no verified ${f.channel === 'sms' ? 'phone number' : 'email address'}`);
      const conversationId = noticeConversationId(f.noticeId, customerId);
      const started = await writeFirst(c, { conversationId, customer, recipient, form: f, noticeId: f.noticeId });
      recordOutcome(progress, customerId, started.created ? 'started' : 'already-sent');
    } catch (err) {
      if (!(err instanceof BackendError) && !(err instanceof NotFoundError)) throw err;
      const why = err instanceof BackendError ? err.details : err.message;
      recordOutcome(progress, customerId, err instanceof BackendError && err.code === status.NOT_FOUND ? 'skipped' : 'failed', why);
    }
  };

  const runNotice = async (c: Caller, f: ReturnType<typeof outreachForms.notice.parse>, progress: NoticeProgress) => {
    const startedAt = Date.now();
    for (const [i, customerId] of f.customerIds.entries()) {
      const wait = sendAt(startedAt, i, deps.noticePerSecond) - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await noticeOne(c, f, customerId, progress);
    }
    deps.logger.info({ noticeId: f.noticeId, by: c.id, ...progress.counts }, 'notice sent');
  };

  const notice = async (c: Caller, body: unknown) => {
    const f = parseForm(outreachForms.notice, body);
    const customerIds = [...new Set(f.customerIds)];
    if (customerIds.length > deps.noticeMaxCustomers) throw new FormError(`customerIds: a notice goes to at most ${deps.noticeMaxCustomers} customers`);
    const running = notices.get(f.noticeId);
    if (running && !running.finished) return running;
    const progress = newProgress(f.noticeId, c.id, f.channel, customerIds.length);
    notices.set(f.noticeId, progress);
    runNotice(c, { ...f, customerIds }, progress).catch((err: unknown) => {
      progress.finished = true;
      deps.logger.error({ noticeId: f.noticeId, err }, 'notice stopped before every customer was written to');
    });
    return progress;
  };

  return {
    post: { '/api/outreach/start': act(WRITERS, start), '/api/outreach/notice': act(['supervisor'], notice) },
    get: {
      '/api/outreach/notice': async (req, res) => {
        const s = await deps.signIn.session(req);
        if (s.role !== 'supervisor') throw new ForbiddenError(`a ${s.role} may not follow notices`);
        const id = new URL(req.url ?? '/', 'http://desk').searchParams.get('noticeId') ?? '';
        const progress = notices.get(id);
        if (!progress) throw new NotFoundError(`notice ${id.slice(0, 40)} is not known to this desk`);
        sendJson(res, 200, progress);
      },
    },
  };
}
