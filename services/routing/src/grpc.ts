// The agent API over gRPC: every call checks the bearer token and the caller's role, then
// runs one core command through the runner (stored and published before the answer).
import { status, type sendUnaryData, type Server, type ServerUnaryCall, type ServerWritableStream, type ServiceError } from '@grpc/grpc-js';
import { authorizeCall, grpcError, type Caller, type IssuerName, type Role, type TokenVerifier } from '../../../libs/auth';
import { CHANNEL_ENUM, channelName, type ChannelName } from '../../../libs/contact';
import { errorDetails, type Logger } from '../../../libs/observability';
import { Presence, RoutingServiceService, Tier, type RoutingServiceServer, type WatchAssignmentsRequest, type WatchAssignmentsResponse } from '../../../libs/proto';
import { RoutingError } from './core/engine';
import type { ActiveState } from './active';
import { NotActiveError } from './runner';

/**
 * Who may make a call: people by role, and services by name (a service token's id is the
 * calling service's own name). Least privilege: each service only for what it uses.
 */
interface Access {
  roles: readonly Role[];
  services?: readonly IssuerName[];
}
const AGENTS: Role[] = ['agent', 'expert'];
const PEOPLE: Role[] = ['agent', 'expert', 'supervisor', 'ops'];

export function toGrpcError(err: unknown): ServiceError {
  // Desks reconnect on UNAVAILABLE until they reach the active instance.
  if (err instanceof NotActiveError) return grpcError(status.UNAVAILABLE, err.message);
  if (err instanceof RoutingError) {
    const code = { not_found: status.NOT_FOUND, invalid: status.INVALID_ARGUMENT, precondition: status.FAILED_PRECONDITION, permission: status.PERMISSION_DENIED }[err.kind];
    return grpcError(code, err.message);
  }
  if (err && typeof err === 'object' && 'code' in err && typeof (err as ServiceError).code === 'number') return err as ServiceError;
  return grpcError(status.UNAVAILABLE, `routing could not complete the call: ${err instanceof Error ? err.message : String(err)}`);
}

/** Ends a server stream with a status: grpc-js sends it on 'error' (destroy() would drop it). */
function endWithError(call: ServerWritableStream<WatchAssignmentsRequest, WatchAssignmentsResponse>, err: ServiceError): void {
  call.emit('error', err);
}

export function registerRoutingGrpc(server: Server, deps: { current: () => ActiveState; verify: TokenVerifier; logger: Logger }): void {
  const { current, verify, logger } = deps;

  function unary<Req, Res>(access: readonly Role[] | Access, handle: (caller: Caller, request: Req) => Promise<Res>) {
    const { roles, services = [] } = 'roles' in access ? access : { roles: access };
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      authorizeCall(call.metadata, verify, services.length ? [...roles, 'service'] : roles)
        .then((caller) => {
          if (caller.role === 'service' && !(services as readonly string[]).includes(caller.id)) throw grpcError(status.PERMISSION_DENIED, `service ${caller.id} may not make this call`);
          return handle(caller, call.request);
        })
        .then(
          (res) => callback(null, res),
          (err: unknown) => {
            const e = toGrpcError(err);
            if (e.code === status.UNAVAILABLE && !(err instanceof NotActiveError)) logger.error({ path: call.getPath(), ...errorDetails(err) }, 'routing call failed');
            callback(e);
          },
        );
    };
  }

  const own = (caller: Caller, agentId: string) => {
    if (agentId && agentId !== caller.id && caller.role !== 'supervisor') throw grpcError(status.PERMISSION_DENIED, 'you may only act for yourself');
    return agentId || caller.id;
  };

  const impl: RoutingServiceServer = {
    registerAgent: unary(['supervisor', 'agent', 'expert'], async (caller, req) => {
      if ((caller.role === 'agent' || caller.role === 'expert') && req.agentId !== caller.id) throw grpcError(status.PERMISSION_DENIED, 'agents may only register themselves');
      if (caller.role === 'agent' && req.tier !== Tier.TIER_FRONT_OFFICE) throw grpcError(status.PERMISSION_DENIED, 'an agent token registers a front-office agent only');
      if (caller.role === 'expert' && req.tier !== Tier.TIER_EXPERT) throw grpcError(status.PERMISSION_DENIED, 'an expert token registers an expert only');
      if (req.name.length > 200) throw grpcError(status.INVALID_ARGUMENT, 'name is longer than 200 characters');
      if (req.skills.length > 100 || req.languages.length > 20) throw grpcError(status.INVALID_ARGUMENT, 'at most 100 skills and 20 languages');
      const { engine, runner } = current();
      const capacity: Partial<Record<ChannelName, number>> = {};
      for (const c of req.capacity) {
        const name = channelName(c.channel);
        if (!name) throw grpcError(status.INVALID_ARGUMENT, 'capacity names no known channel');
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
    setPresence: unary(['agent', 'expert', 'supervisor'], async (caller, req) => {
      const agentId = own(caller, req.agentId);
      if (!Object.values(Presence).includes(req.presence) || req.presence === Presence.PRESENCE_UNSPECIFIED) throw grpcError(status.INVALID_ARGUMENT, 'presence must be set');
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
            endWithError(call, toGrpcError(err));
            return;
          }
          const { engine, runner } = active;
          if (!engine.agents.has(caller.id)) {
            endWithError(call, grpcError(status.NOT_FOUND, `agent ${caller.id} is not registered`));
            return;
          }
          const stop = runner.listen(
            caller.id,
            (update) => call.write(update),
            (err) => endWithError(call, toGrpcError(err)),
          );
          call.on('cancelled', stop);
          call.on('close', stop);
          call.on('error', stop);
          // What the agent holds now, so a reconnecting desk is whole again.
          call.write({ update: { $case: 'agentState', agentState: engine.agentState(caller.id) } });
          for (const id of engine.agents.get(caller.id)!.active) {
            const conv = engine.conversations.get(id);
            if (!conv) continue;
            const offer = { conversationId: id, channel: CHANNEL_ENUM[conv.channel], customerId: conv.customerId, customerName: conv.customerName, badges: conv.flags, expiresAt: conv.state === 'offered' ? new Date(conv.offerExpiresAt) : undefined, subject: conv.subject, escalationNote: conv.escalationNote, reason: undefined, customerIdentity: conv.recipient };
            call.write({ update: conv.state === 'offered' ? { $case: 'offer', offer } : { $case: 'assigned', assigned: offer } });
          }
        },
        (err: unknown) => endWithError(call, toGrpcError(err)),
      );
    },
    acceptOffer: unary(AGENTS, async (caller, req) => {
      const { engine, runner } = current();
      await runner.run(() => engine.accept(caller.id, req.conversationId));
      return {};
    }),
    declineOffer: unary(AGENTS, async (caller, req) => {
      const { engine, runner } = current();
      await runner.run(() => engine.decline(caller.id, req.conversationId));
      return {};
    }),
    reply: unary(AGENTS, async (caller, req) => {
      const { engine, runner } = current();
      const { messageId } = await runner.run(() => engine.reply(caller.id, req.conversationId, req.text, req.subject.slice(0, 500)));
      return { outboundMessageId: messageId };
    }),
    escalate: unary(AGENTS, async (caller, req) => {
      const { engine, runner } = current();
      await runner.run(() => engine.escalate(caller.id, req.conversationId, req.note, req.skill));
      return {};
    }),
    transfer: unary(AGENTS, async (caller, req) => {
      if (Boolean(req.toAgentId) === Boolean(req.toQueue)) throw grpcError(status.INVALID_ARGUMENT, 'give exactly one of to_agent_id and to_queue');
      const { engine, runner } = current();
      await runner.run(() => engine.transfer(caller.id, req.conversationId, { toAgentId: req.toAgentId || undefined, toQueue: req.toQueue || undefined, note: req.note }));
      return {};
    }),
    handBack: unary(['expert'], async (caller, req) => {
      const { engine, runner } = current();
      await runner.run(() => engine.handBack(caller.id, req.conversationId, req.note));
      return {};
    }),
    resolve: unary(AGENTS, async (caller, req) => {
      const { engine, runner } = current();
      await runner.run(() => engine.resolve(caller.id, req.conversationId, req.disposition));
      return {};
    }),
    reassign: unary(['supervisor'], async (_caller, req) => {
      const { engine, runner } = current();
      await runner.run(() => engine.reassign(req.conversationId, req.toAgentId));
      return {};
    }),
    // sms-voice tells callers their place in the queue.
    getWaitEstimate: unary({ roles: PEOPLE, services: ['sms-voice'] }, async (_caller, req) => current().engine.waitEstimate(req.conversationId)),
    // The ops console charts the queues.
    getQueueStats: unary({ roles: PEOPLE, services: ['ops-console'] }, async () => ({ queues: current().engine.queueStats() })),
    listAgents: unary(PEOPLE, async () => {
      const { engine } = current();
      return { agents: [...engine.agents.keys()].sort().map((id) => engine.agentState(id)) };
    }),
  };
  server.addService(RoutingServiceService, impl);
}
