// The canned answers' routes: the list a person may use and manage, creating, changing and
// deleting (supervisors for shared answers, each person for their own), the audit of shared
// ones, and the answers for one conversation's channel filled from what the desk knows.
import type { Role } from '#libs/auth';
import { waitInWords } from '#libs/contact';
import type { z } from 'zod';
import { ForbiddenError, readJson, sendJson, type StaffSignIn } from '#libs/web';
import { BackendError, type Backends, type Caller } from './backends';
import { CANNED_CHANNELS, CANNED_LIMITS, changeRefusal, customerNameValue, fillTemplate, PLACEHOLDERS, smsCount } from './canned';
import { cannedForms, checkedAnswer } from './canned-forms';
import type { CannedAnswer, CannedAnswerStore } from './canned-store';
import { parseForm } from './forms';
import { caller, MAX_BODY_BYTES, type Route } from './http';
import { DESK_ROLES, WORKERS } from './sign-in';

interface CannedRouteDeps {
  signIn: StaffSignIn;
  backends: Backends;
  canned: CannedAnswerStore;
  act(roles: Role[], run: (c: Caller, body: unknown) => Promise<unknown>): Route;
}

function answerView(c: Caller, a: CannedAnswer) {
  return {
    id: a._id,
    scope: a.scope,
    name: a.name,
    text: a.text,
    channels: a.channels,
    version: a.version,
    mayChange: changeRefusal(c, a) === '',
    createdBy: a.createdBy,
    updatedBy: a.updatedBy,
    updatedAt: a.updatedAt.getTime(),
  };
}

export function cannedRoutes({ signIn, backends, canned, act }: CannedRouteDeps): { get: Record<string, Route>; post: Record<string, Route> } {
  const get: Record<string, Route> = {
    '/api/canned': async (req, res) => {
      const s = await signIn.session(req);
      if (!DESK_ROLES.includes(s.role)) throw new ForbiddenError(`a ${s.role} has no canned answers here`);
      const c = caller(s);
      sendJson(res, 200, {
        answers: (await canned.visibleTo(c)).map((a) => answerView(c, a)),
        placeholders: Object.entries(PLACEHOLDERS).map(([name, p]) => ({ name, means: p.means })),
        channels: CANNED_CHANNELS,
        limits: { ...CANNED_LIMITS, ...canned.limits },
        managesShared: s.role === 'supervisor',
      });
    },
    '/api/canned/audit': async (req, res) => {
      const s = await signIn.session(req);
      if (s.role !== 'supervisor') throw new ForbiddenError('the audit of shared canned answers is for supervisors');
      const entries = await canned.auditTrail();
      sendJson(res, 200, { entries: entries.map(({ _id, ...e }) => ({ ...e, at: e.at.getTime() })) });
    },
  };
  const post: Record<string, Route> = {
    '/api/canned/create': act(DESK_ROLES, async (c, body) => {
      const f = checkedAnswer(parseForm(cannedForms.create, body));
      return answerView(c, await canned.create(c, f.scope, { name: f.name, text: f.text, channels: f.channels }));
    }),
    '/api/canned/update': act(DESK_ROLES, async (c, body) => {
      const f = checkedAnswer(parseForm(cannedForms.update, body));
      return answerView(c, await canned.update(c, f.id, f.version, { name: f.name, text: f.text, channels: f.channels }));
    }),
    '/api/canned/delete': act(DESK_ROLES, async (c, body) => {
      await canned.remove(c, parseForm(cannedForms.remove, body).id);
      return { deleted: true };
    }),
    // A read, but with what the page knows of the customer in its body: a POST, checked as every other.
    '/api/canned/fill': async (req, res) => {
      const session = await signIn.changing(req);
      if (!WORKERS.includes(session.role)) throw new ForbiddenError('canned answers are filled for the agent holding the conversation');
      const f = parseForm(cannedForms.fill, await readJson(req, MAX_BODY_BYTES));
      sendJson(res, 200, await fill(backends, canned, caller(session), session.name, f));
    },
  };
  return { get, post };
}

/** The answers for the conversation's channel, each filled; the wait is routing's estimate for the conversation's queue. */
async function fill(backends: Backends, canned: CannedAnswerStore, c: Caller, agentName: string, f: z.output<typeof cannedForms.fill>) {
  const answers = (await canned.visibleTo(c)).filter((a) => a.channels.includes(f.channel));
  // Routing is asked only when an answer says the wait.
  const needsWait = answers.some((a) => /\{\{\s*wait\s*\}\}/.test(a.text));
  const wait = needsWait ? await estimatedWait(backends, c, f.conversationId) : { text: '', note: '' };
  const values = {
    'customer.name': customerNameValue(f.customerName),
    'conversation.reference': f.reference,
    wait: wait.text,
    'agent.name': agentName,
  };
  return {
    answers: answers.map((a) => {
      const filled = fillTemplate(a.text, values);
      return { id: a._id, scope: a.scope, name: a.name, text: a.text, filled: filled.text, missing: filled.missing, sms: smsCount(filled.text, f.channel) };
    }),
    waitNote: wait.note,
  };
}

/** Routing's estimated wait in words; when routing cannot say, the placeholder stays for the agent, with the reason. */
async function estimatedWait(backends: Backends, c: Caller, conversationId: string): Promise<{ text: string; note: string }> {
  try {
    const estimate = await backends.waitEstimate(c, conversationId);
    let ms = Number(estimate.estimatedWaitMs);
    // A held conversation waits no more: the wait a customer is told is its queue's.
    if (!ms && estimate.queue) {
      const queue = (await backends.queueStats(c)).queues.find((q) => q.queue === estimate.queue);
      if (!queue) return { text: '', note: `routing has no figures for the queue ${estimate.queue} yet` };
      ms = Number(queue.estimatedWaitMs);
    }
    return { text: waitInWords(ms, { approximate: true }), note: '' };
  } catch (err) {
    if (err instanceof BackendError) return { text: '', note: `routing gave no wait estimate (${err.details || 'unavailable'})` };
    throw err;
  }
}
