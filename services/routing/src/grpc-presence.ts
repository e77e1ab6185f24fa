// Agents joining the centre and saying whether they can take work: registration and presence.
import type { Caller } from '#libs/auth';
import { channelName, type ChannelName } from '#libs/contact';
import { Presence, Tier, type RoutingServiceServer } from '#libs/proto';
import { InvalidArgumentError, PermissionDeniedError } from '#libs/service';
import type { HandlerDeps } from './grpc-calls';

/** The agent a call acts for: the caller itself unless a supervisor names another. */
function actingFor(caller: Caller, agentId: string): string {
  if (agentId && agentId !== caller.id && caller.role !== 'supervisor') throw new PermissionDeniedError('you may only act for yourself');
  return agentId || caller.id;
}

export function presenceHandlers({ current, unary }: HandlerDeps): Pick<RoutingServiceServer, 'registerAgent' | 'setPresence'> {
  return {
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
      const agentId = actingFor(caller, req.agentId);
      if (!Object.values(Presence).includes(req.presence) || req.presence === Presence.PRESENCE_UNSPECIFIED)
        throw new InvalidArgumentError('presence must be set');
      const { engine, runner } = current();
      await runner.run(() => engine.setPresence(agentId, req.presence));
      return { agent: engine.agentState(agentId) };
    }),
  };
}
