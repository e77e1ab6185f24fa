// The agent API over gRPC: every call checks the bearer token and the caller's role, then
// runs one core command through the runner (stored and published before the answer). The
// handlers live by what they do (grpc-presence, -offers, -moves, -reads, -watch); this module
// holds who may call what and assembles the table.
import type { Server } from '@grpc/grpc-js';
import { authorizeCall, isGranted, rolesFor, type ServiceGrants, type TokenVerifier } from '#libs/auth';
import type { Logger } from '#libs/observability';
import { RoutingServiceService, type RoutingServiceServer } from '#libs/proto';
import { PermissionDeniedError, unaryHandler, type GrpcEdge } from '#libs/service';
import type { ActiveState } from './active';
import { agentCallInSpan } from './conversation-traces';
import type { HandlerDeps, RoutingCall, UnaryCall } from './grpc-calls';
import { applicationHandlers } from './grpc-applications';
import { calendarHandlers } from './grpc-calendars';
import { moveHandlers } from './grpc-moves';
import { offerHandlers } from './grpc-offers';
import { presenceHandlers } from './grpc-presence';
import { promiseHandlers } from './grpc-promises';
import { readHandlers } from './grpc-reads';
import { watchAssignmentsHandler } from './grpc-watch';

/** Who may make a call: people by role, and services by name, each only for what it uses. */
const SERVICE_GRANTS: ServiceGrants<RoutingCall> = {
  // sms-voice tells callers their place in the queue.
  'sms-voice': ['GetWaitEstimate'],
  // The ops console charts the queues.
  'ops-console': ['GetQueueStats'],
  // The integration API answers GET /v1/queues and the /v1/conversations routes, for the application of each API key.
  'integration-api': [
    'GetQueueStats',
    'ListConversations',
    'GetConversation',
    'PostApplicationMessage',
    'AddNote',
    'ResolveForApplication',
    'TransferForApplication',
    'StartConversation',
  ],
};

export function registerRoutingGrpc(server: Server, deps: { current: () => ActiveState; verify: TokenVerifier; logger: Logger }): void {
  const { current, verify } = deps;
  // Desks reconnect on UNAVAILABLE (NotActiveError) until they reach the active instance.
  const edge: GrpcEdge = { service: 'routing', logger: deps.logger };

  const unary: UnaryCall = (name, people, handle) =>
    unaryHandler(edge, async (call) => {
      const caller = await authorizeCall(call.metadata, verify, rolesFor(SERVICE_GRANTS, name, people));
      if (!isGranted(SERVICE_GRANTS, caller, name)) throw new PermissionDeniedError(`service ${caller.id} may not make this call`);
      return agentCallInSpan(name, call.metadata, call.request, () => handle(caller, call.request));
    });

  const handlers: HandlerDeps = { current, unary };
  const impl: RoutingServiceServer = {
    ...presenceHandlers(handlers),
    watchAssignments: watchAssignmentsHandler({ current, verify, edge }),
    ...offerHandlers(handlers),
    ...moveHandlers(handlers),
    ...readHandlers(handlers),
    ...applicationHandlers(handlers),
    ...calendarHandlers(handlers, deps.logger),
    ...promiseHandlers(handlers),
  };
  server.addService(RoutingServiceService, impl);
}
