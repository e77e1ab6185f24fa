// A tier-1 agent of a test's own at routing: registered by a supervisor, watching their
// assignments and available, as a desk would make them; for the end-to-end tests that drive
// routing's gRPC API directly.
import { Channel, Presence, Tier } from '#libs/proto';
import { client } from '../../services/routing/test/helpers';
import { whileUnavailable } from './sms-voice-stand-in';

/** Registers `agentId` with `skill` and a capacity per channel, and returns their desk client, available. */
export async function availableAgent(routingPort: number, agentId: string, skill: string, capacity: [Channel, number][]) {
  const supervisor = await client(routingPort, 'sup', 'supervisor');
  try {
    await whileUnavailable(() =>
      supervisor.call(supervisor.raw.registerAgent, {
        agentId,
        name: 'Ann',
        tier: Tier.TIER_FRONT_OFFICE,
        skills: [{ name: skill, level: 3 }],
        languages: ['en'],
        capacity: capacity.map(([channel, n]) => ({ channel, capacity: n, active: 0 })),
        totalCapacity: capacity.reduce((sum, [, n]) => sum + n, 0),
      }),
    );
  } finally {
    supervisor.close();
  }
  const desk = await client(routingPort, agentId, 'agent');
  desk.watch();
  await whileUnavailable(() => desk.call(desk.raw.setPresence, { agentId: '', presence: Presence.PRESENCE_AVAILABLE }));
  return desk;
}
