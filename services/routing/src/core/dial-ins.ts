// The voice channel could not dial the assigned agent into the call (their phone or softphone
// did not take the leg): the customer waits on hold, so the conversation is taken from that
// agent (their desk is told why) and goes back to the front of its queue for another agent.
// The agent is not offered this conversation again, so a broken line is not rung in a loop.
import type { Core } from './context';
import { requeueFromAgent } from './dispatch';
import { displayName } from './reasons';

/** Agents remembered per conversation: enough for any team, bounded for the changelog. */
const MAX_UNREACHABLE = 20;

export function agentDialInFailed(core: Core, conversationId: string, agentId: string, code: string): void {
  const conv = core.conversations.get(conversationId);
  const agent = core.agents.records.get(agentId);
  // A late or repeated report: the conversation has moved on (another agent, resolved, abandoned).
  if (!conv || !agent || conv.state !== 'assigned' || conv.agentId !== agentId) return;
  conv.unreachableAgents = [...(conv.unreachableAgents ?? []).filter((a) => a !== agentId), agentId].slice(-MAX_UNREACHABLE);
  const what = conv.callback?.state === 'connected' ? 'the answered callback' : 'the call';
  requeueFromAgent(
    core,
    conv,
    agent,
    'call.agent_unreachable',
    `${displayName(agent)} could not be dialled into ${what} (${code.slice(0, 40) || 'no code'}); back first in the queue for another agent`,
  );
}
