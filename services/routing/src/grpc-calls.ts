// What the agent API's handler groups share: the calls' names, who counts as an agent, and the
// shape of the one maker of unary handlers (grpc.ts), which checks the caller before the handler.
import type { handleUnaryCall } from '@grpc/grpc-js';
import type { Caller, Role } from '#libs/auth';
import type { ActiveState } from './active';

export type RoutingCall =
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
  | 'ListAgents'
  | 'ListConversations'
  | 'GetConversation'
  | 'PostApplicationMessage'
  | 'AddNote'
  | 'ResolveForApplication'
  | 'TransferForApplication'
  | 'StartConversation'
  | 'GetCalendars'
  | 'SetCalendars'
  | 'SetPromise'
  | 'GetPromise';

export const AGENTS: Role[] = ['agent', 'expert'];
export const PEOPLE: Role[] = ['agent', 'expert', 'supervisor', 'ops'];

/** A unary handler that lets `people` (and the services granted `name`) run `handle`. */
export type UnaryCall = <Req, Res>(
  name: RoutingCall,
  people: readonly Role[],
  handle: (caller: Caller, request: Req) => Promise<Res>,
) => handleUnaryCall<Req, Res>;

export interface HandlerDeps {
  /** The active instance's engine and runner; throws NotActiveError on a standby. */
  current: () => ActiveState;
  unary: UnaryCall;
}
