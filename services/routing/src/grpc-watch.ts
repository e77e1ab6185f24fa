// An agent's stream of offers and assignments: first what the agent holds now (so a reconnecting
// desk is whole again), then every update the runner tells after its commit.
import type { handleServerStreamingCall, ServerWritableStream } from '@grpc/grpc-js';
import { authorizeCall, type Caller, type TokenVerifier } from '#libs/auth';
import type { WatchAssignmentsRequest, WatchAssignmentsResponse } from '#libs/proto';
import { NotFoundError, toServiceError, type GrpcEdge } from '#libs/service';
import type { ActiveState } from './active';
import { offerWritten } from './conversation-traces';
import { offerView, type RoutingEngine } from './core/engine';
import { AGENTS } from './grpc-calls';

type AssignmentStream = ServerWritableStream<WatchAssignmentsRequest, WatchAssignmentsResponse>;

interface WatchDeps {
  current: () => ActiveState;
  verify: TokenVerifier;
  edge: GrpcEdge;
}

/** Ends a server stream with a status: grpc-js sends it on 'error' (destroy() would drop it). */
function endWithError(call: AssignmentStream, edge: GrpcEdge, err: unknown): void {
  call.emit('error', toServiceError(edge, call.getPath(), err));
}

export function watchAssignmentsHandler(deps: WatchDeps): handleServerStreamingCall<WatchAssignmentsRequest, WatchAssignmentsResponse> {
  return (call: AssignmentStream) => {
    authorizeCall(call.metadata, deps.verify, AGENTS).then(
      (caller) => follow(call, caller, deps),
      (err: unknown) => endWithError(call, deps.edge, err),
    );
  };
}

function follow(call: AssignmentStream, caller: Caller, { current, edge }: WatchDeps): void {
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
    (update) => {
      offerWritten(caller.id, update);
      call.write(update);
    },
    (err) => endWithError(call, edge, err),
  );
  call.on('cancelled', stop);
  call.on('close', stop);
  call.on('error', stop);
  writeHoldings(call, engine, caller.id);
}

/** The agent's state, then each conversation it holds: offered ones as offers, the rest as assigned. */
function writeHoldings(call: AssignmentStream, engine: RoutingEngine, agentId: string): void {
  call.write({ update: { $case: 'agentState', agentState: engine.agentState(agentId) } });
  for (const id of engine.agents.get(agentId)!.active) {
    const conv = engine.conversations.get(id);
    if (!conv) continue;
    const offer = offerView(conv);
    call.write({ update: conv.state === 'offered' ? { $case: 'offer', offer } : { $case: 'assigned', assigned: offer } });
  }
}
