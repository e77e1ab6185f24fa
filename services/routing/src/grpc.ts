// The agent API over gRPC: every call checks the bearer token and the caller's role, then
// runs one core command through the runner (stored and published before the answer).
import type { Server, ServerWritableStream } from '@grpc/grpc-js';
import { authorizeCall, isGranted, rolesFor, type Caller, type Role, type ServiceGrants, type TokenVerifier } from '#libs/auth';
import { CHANNEL_ENUM, channelName, type ChannelName } from '#libs/contact';
import type { Logger } from '#libs/observability';
import { Presence, RoutingServiceService, Tier, type RoutingServiceServer, type WatchAssignmentsRequest, type WatchAssignmentsResponse } from '#libs/proto';
import { InvalidArgumentError, NotFoundError, PermissionDeniedError, toServiceError, unaryHandler, type GrpcEdge } from '#libs/service';
import type { ActiveState } from './active';

type RoutingCall =
  | 'RegisterAgent'
  | 'SetPresence'
  | 'AcceptOffer'
  | 'DeclineOffer'
  | 'Reply'
  | 'Escalate'
  | 'Transfer'
  | 'HandBack'
  | 'Resolve'
  | 'Reassign'
  | 'GetWaitEstimate'
  | 'GetQueueStats'
  | 'ListAgents';

/** Who may make a call: people by role, and services by name, each only for what it uses. */
const SERVICE_GRANTS: ServiceGrants<RoutingCall> = {
  // sms-voice tells callers their place in the queue.
  'sms-voice': ['GetWaitEstimate'],
  // The ops console charts the queues.
  'ops-console': ['GetQueueStats'],
};
const AGENTS: Role[] = ['agent', 'expert'];
const PEOPLE: Role[] = ['agent', 'expert', 'supervisor', 'ops'];

/** Ends a server stream with a status: grpc-js sends it on 'error' (destroy() would drop it). */
function endWithError(call: ServerWritableStream<WatchAssignmentsRequest, WatchAssignmentsResponse>, edge: GrpcEdge, err: unknown): void {
  call.emit('error', toServiceError(edge, call.getPath(), err));
}

export function registerRoutingGrpc(server: Server, deps: { current: () => ActiveState; verify: TokenVerifier; logger: Logger }): void {
  const { current, verify } = deps;
  // Desks reconnect on UNAVAILABLE (NotActiveError) until they reach the active instance.
  const edge: GrpcEdge = { service: 'routing', logger: deps.logger };

  function unary<Req, Res>(name: RoutingCall, people: readonly Role[], handle: (caller: Caller, request: Req) => Promise<Res>) {
    return unaryHandler<Req, Res>(edge, async (call) => {
      const caller = await authorizeCall(call.metadata, verify, rolesFor(SERVICE_GRANTS, name, people));
      if (!isGranted(SERVICE_GRANTS, caller, name)) throw new PermissionDeniedError(`service ${caller.id} may not make this call`);
      return handle(caller, call.request);
    });
  }

  const own = (caller: Caller, agentId: string) => {
    if (agentId && agentId !== caller.id && caller.role !== 'supervisor') throw new PermissionDeniedError('you may only act for yourself');
    return agentId || caller.id;
  };

  const impl: RoutingServiceServer = {
    registerAgent: unary('RegisterAgent', ['supervisor', 'agent', 'expert'], async (caller, req) => {
      if ((caller.role === 'agent' || caller.role === 'expert') && req.agentId !== caller.id)
        throw new PermissionDeniedError('agents may only register themselves');
      if (caller.role === 'agent' && req.tier !== Tier.TIER_FRONT_OFFICE) throw new PermissionDeniedError('an agent token registers a front-office agent only');
      if (caller.role === 'expert' && req.tier !== Tier.TIER_EXPERT) throw new PermissionDeniedError('an expert token registers an expert only');
      if (req.name.length > 200) throw new InvalidArgumentError('name is longer than 200 characters');
      if (req.skills.length > 100 || req.languages.length > 20) throw new InvalidArgumentError('at most 100 skills and 20 languages');
      const { engine, runner } = current();
      const capacity: Partial<Record<ChannelName, number>> = {};
      for (const c of req.capacity) {
        const name = channelName(c.channel);
        if (!name) throw new InvalidArgumentError('capacity names no known channel');
        capacity[name] = c.capacity;
      }
      await runner.run(() =>
        engine.registerAgent({
          id: req.agentId,
          name: req.name,
          tier: req.tier,
          skills: Object.fromEntries(req.skills.map((s) => [s.name, s.level])),
          languages: req.languages.filter((l) => /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(l)),
          capacity,
          totalCapacity: req.totalCapacity,
        }),
      );
      return { agent: engine.agentState(req.agentId) };
    }),
    setPresence: unary('SetPresence', ['agent', 'expert', 'supervisor'], async (caller, req) => {
      const agentId = own(caller, req.agentId);
      if (!Object.values(Presence).includes(req.presence) || req.presence === Presence.PRESENCE_UNSPECIFIED)
        throw new InvalidArgumentError('presence must be set');
      const { engine, runner } = current();
      await runner.run(() => engine.setPresence(agentId, req.presence));
      return { agent: engine.agentState(agentId) };
    }),
    watchAssignments: (call: ServerWritableStream<WatchAssignmentsRequest, WatchAssignmentsResponse>) => {
      authorizeCall(call.metadata, verify, AGENTS).then(
        (caller) => {
          let active: ActiveState;
          try {
            active = current();
          } catch (err) {
            endWithError(call, edge, err);
            return;
          }
          const { engine, runner } = active;
          if (!engine.agents.has(caller.id)) {
            endWithError(call, edge, new NotFoundError(`agent ${caller.id} is not registered`));
            return;
          }
          const stop = runner.listen(
            caller.id,
            (update) => call.write(update),
            (err) => endWithError(call, edge, err),
          );
          call.on('cancelled', stop);
          call.on('close', stop);
          call.on('error', stop);
          // What the agent holds now, so a reconnecting desk is whole again.
          call.write({ update: { $case: 'agentState', agentState: engine.agentState(caller.id) } });
          for (const id of engine.agents.get(caller.id)!.active) {
            const conv = engine.conversations.get(id);
            if (!conv) continue;
            const offer = {
              conversationId: id,
              channel: CHANNEL_ENUM[conv.channel],
              customerId: conv.customerId,
              customerName: conv.customerName,
              badges: conv.flags,
              expiresAt: conv.state === 'offered' ? new Date(conv.offerExpiresAt) : undefined,
              subject: conv.subject,
              escalationNote: conv.escalationNote,
              reason: undefined,
              customerIdentity: conv.recipient,
            };
            call.write({ update: conv.state === 'offered' ? { $case: 'offer', offer } : { $case: 'assigned', assigned: offer } });
          }
        },
        (err: unknown) => endWithError(call, edge, err),
      );
    },
    acceptOffer: unary('AcceptOffer', AGENTS, async (caller, req) => {
      const { engine, runner } = current();
      await runner.run(() => engine.accept(caller.id, req.conversationId));
      return {};
    }),
    declineOffer: unary('DeclineOffer', AGENTS, async (caller, req) => {
      const { engine, runner } = current();
      await runner.run(() => engine.decline(caller.id, req.conversationId));
      return {};
    }),
    reply: unary('Reply', AGENTS, async (caller, req) => {
      const { engine, runner } = current();
      const { messageId } = await runner.run(() => engine.reply(caller.id, req.conversationId, req.text, req.subject.slice(0, 500)));
      return { outboundMessageId: messageId };
    }),
    escalate: unary('Escalate', AGENTS, async (caller, req) => {
      const { engine, runner } = current();
      await runner.run(() => engine.escalate(caller.id, req.conversationId, req.note, req.skill));
      return {};
    }),
    transfer: unary('Transfer', AGENTS, async (caller, req) => {
      if (Boolean(req.toAgentId) === Boolean(req.toQueue)) throw new InvalidArgumentError('give exactly one of to_agent_id and to_queue');
      const { engine, runner } = current();
      await runner.run(() =>
        engine.transfer(caller.id, req.conversationId, { toAgentId: req.toAgentId || undefined, toQueue: req.toQueue || undefined, note: req.note }),
      );
      return {};
    }),
    handBack: unary('HandBack', ['expert'], async (caller, req) => {
      const { engine, runner } = current();
      await runner.run(() => engine.handBack(caller.id, req.conversationId, req.note));
      return {};
    }),
    resolve: unary('Resolve', AGENTS, async (caller, req) => {
      const { engine, runner } = current();
      await runner.run(() => engine.resolve(caller.id, req.conversationId, req.disposition));
      return {};
    }),
    reassign: unary('Reassign', ['supervisor'], async (_caller, req) => {
      const { engine, runner } = current();
      await runner.run(() => engine.reassign(req.conversationId, req.toAgentId));
      return {};
    }),
    getWaitEstimate: unary('GetWaitEstimate', PEOPLE, async (_caller, req) => current().engine.waitEstimate(req.conversationId)),
    getQueueStats: unary('GetQueueStats', PEOPLE, async () => ({ queues: current().engine.queueStats() })),
    listAgents: unary('ListAgents', PEOPLE, async () => {
      const { engine } = current();
      return { agents: [...engine.agents.keys()].sort().map((id) => engine.agentState(id)) };
    }),
  };
  server.addService(RoutingServiceService, impl);
}
