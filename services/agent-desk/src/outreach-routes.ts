// Writing first to customers from the desk. A person writes to the customer of a conversation
// they hold or held lately (customer-record authorises and audits the read of that customer, and
// the address must be one it verified); a supervisor sends a notice to a list of customers, one
// tracked conversation each, paced to DESK_NOTICE_PER_SECOND. Routing sends each first message
// and brings the customer's answer back to the writer's queue; the channel's delivery report
// (followed from Kafka) tells the writer whether it really went out.
import { status } from '@grpc/grpc-js';
import type { Role } from '#libs/auth';
import { CHANNEL_ENUM, newConversationReference, recipientIdentity, recipientRefusal, verifiedRecipient } from '#libs/contact';
import type { Logger } from '#libs/observability';
import { type Customer, type Identity, StartConversationRequest, type WhatsAppTemplateMessage } from '#libs/proto';
import { BadRequestError, ForbiddenError, NotFoundError, sendJson, type StaffSignIn } from '#libs/web';
import { BackendError, type Backends, type Caller } from './backends';
import { deliveryView, noticeDeliveries, type DeliveryBook, type DeliveryView } from './deliveries';
import { FormError, parseForm } from './forms';
import { caller, type Route } from './http';
import { deskConversationId, newProgress, noticeConversationId, recordOutcome, sendAt, type NoticeProgress } from './outreach';
import { outreachForms } from './outreach-forms';
import { fillTemplate, TemplateError, templateChoices, type WhatsAppTemplate } from './whatsapp-templates';

interface OutreachDeps {
  backends: Backends;
  signIn: StaffSignIn;
  logger: Logger;
  noticePerSecond: number;
  noticeMaxCustomers: number;
  /** The approved WhatsApp templates (AGENT_DESK_WHATSAPP_TEMPLATES_JSON). */
  whatsappTemplates: WhatsAppTemplate[];
  /** The delivery reports followed from Kafka; undefined when the desk does not follow them. */
  deliveries: DeliveryBook | undefined;
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

const NOT_FOLLOWED: DeliveryView = { state: 'queued', words: 'Queued. This desk does not follow deliveries: the conversation shows what became of it.' };

export function outreachRoutes(deps: OutreachDeps): { get: Record<string, Route>; post: Record<string, Route> } {
  const { backends, act } = deps;
  const notices = new Map<string, NoticeProgress>();
  /** Each notice's conversations, customer by customer, to follow their deliveries. */
  const noticeStarts = new Map<string, { customerId: string; conversationId: string }[]>();
  const delivery = (conversationId: string) => (deps.deliveries ? deliveryView(deps.deliveries.of(conversationId)) : NOT_FOLLOWED);

  /** The writer's template filled and checked: a wrong value is a 400 that names the variable. */
  const filled = (f: { template: string; variables: string[] }): { text: string; template: WhatsAppTemplateMessage } => {
    try {
      const t = fillTemplate(deps.whatsappTemplates, f.template, f.variables);
      return { text: t.text, template: { contentSid: t.template.contentSid, variablesJson: t.contentVariables, name: t.template.name } };
    } catch (err) {
      if (err instanceof TemplateError) throw new FormError(err.message);
      throw err;
    }
  };

  /** Routing's StartConversation for one customer: the first message, from the person, a new reference. */
  const writeFirst = (
    c: Caller,
    w: {
      conversationId: string;
      customer: Customer;
      recipient: Identity;
      form: { channel: 'email' | 'sms' | 'whatsapp'; subject: string; text: string; skill: string };
      noticeId: string;
      whatsappTemplate?: WhatsAppTemplateMessage;
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
        whatsappTemplate: w.whatsappTemplate,
      }),
    );

  const start = async (c: Caller, body: unknown) => {
    const f = parseForm(outreachForms.start, body);
    const reason = c.role === 'supervisor' ? `writes first to the customer of ${f.fromConversationId}` : '';
    const customer = customerOf(await backends.customerContext(c, null, f.fromConversationId, reason));
    const recipient = recipientIdentity(f.channel === 'email' ? 'email' : 'sms', f.to);
    const refused = recipientRefusal(customer, recipient);
    if (refused) throw new RecipientRefusedError(`to: ${refused}`);
    const template = f.template ? filled(f) : undefined;
    const conversationId = deskConversationId(c.id, f.requestId);
    const started = await writeFirst(c, {
      conversationId,
      customer,
      recipient,
      form: { ...f, text: template?.text ?? f.text },
      noticeId: '',
      whatsappTemplate: template?.template,
    });
    return {
      conversationId: started.conversation?.conversationId ?? '',
      outboundMessageId: started.outboundMessageId,
      created: started.created,
      text: template?.text ?? f.text,
      delivery: delivery(conversationId),
    };
  };

  /** Where the writer's own write stands: its id is made from the person and the page's request id, so only they can ask. */
  const deliveryOf: Route = async (req, res) => {
    const s = await deps.signIn.session(req);
    if (!WRITERS.includes(s.role)) throw new ForbiddenError(`a ${s.role} does not write to customers`);
    const { requestId } = parseForm(outreachForms.delivery, { requestId: new URL(req.url ?? '/', 'http://desk').searchParams.get('requestId') ?? '' });
    const conversationId = deskConversationId(caller(s).id, requestId);
    sendJson(res, 200, { conversationId, ...delivery(conversationId) });
  };

  /** One customer of a notice: read (audited, with the notice as the reason), then started. */
  const noticeOne = async (c: Caller, f: ReturnType<typeof outreachForms.notice.parse>, customerId: string, progress: NoticeProgress) => {
    try {
      const customer = customerOf(await backends.customerContext(c, { customerId }, '', `notice ${f.noticeId}`));
      const recipient = verifiedRecipient(customer, f.channel);
      if (!recipient) return recordOutcome(progress, customerId, 'skipped', `no verified ${f.channel === 'sms' ? 'phone number' : 'email address'}`);
      const conversationId = noticeConversationId(f.noticeId, customerId);
      const started = await writeFirst(c, { conversationId, customer, recipient, form: f, noticeId: f.noticeId });
      noticeStarts.get(f.noticeId)?.push({ customerId, conversationId });
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
    noticeStarts.set(f.noticeId, []);
    runNotice(c, { ...f, customerIds }, progress).catch((err: unknown) => {
      progress.finished = true;
      deps.logger.error({ noticeId: f.noticeId, err }, 'notice stopped before every customer was written to');
    });
    return progress;
  };

  return {
    post: { '/api/outreach/start': act(WRITERS, start), '/api/outreach/notice': act(['supervisor'], notice) },
    get: {
      '/api/outreach/delivery': deliveryOf,
      '/api/outreach/whatsapp-templates': async (req, res) => {
        const s = await deps.signIn.session(req);
        if (!WRITERS.includes(s.role)) throw new ForbiddenError(`a ${s.role} does not write to customers`);
        sendJson(res, 200, { templates: templateChoices(deps.whatsappTemplates) });
      },
      '/api/outreach/notice': async (req, res) => {
        const s = await deps.signIn.session(req);
        if (s.role !== 'supervisor') throw new ForbiddenError(`a ${s.role} may not follow notices`);
        const id = new URL(req.url ?? '/', 'http://desk').searchParams.get('noticeId') ?? '';
        const progress = notices.get(id);
        if (!progress) throw new NotFoundError(`notice ${id.slice(0, 40)} is not known to this desk`);
        const deliveries = deps.deliveries ? noticeDeliveries(deps.deliveries, noticeStarts.get(id) ?? []) : undefined;
        sendJson(res, 200, { ...progress, deliveries });
      },
    },
  };
}
