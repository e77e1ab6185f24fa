// A supervisor's calendar change over gRPC against the real broker: refused whole when it does
// not parse, kept in the changelog when it does, so the standby that takes over and an
// instance started afterwards both hold it.
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { GetCalendarsResponse, SetCalendarsRequest, SetCalendarsResponse } from '#libs/proto';
import { testContext, uniqueId, waitFor } from '#libs/testing';
import { startRouting } from '../src/service';
import { client, configFor, useRoutingHarness } from './helpers';

const configured = { '*/*/*': { zone: 'UTC', hours: { mon: ['09:00-17:00'] } } };
const changed = {
  'tier1/*/*': { zone: 'Europe/Paris', hours: { mon: ['08:00-12:00', '13:00-19:00'], sat: ['10:00-13:00'] }, holidays: ['2026-12-25'] },
  'tier2/*/*': { zone: 'America/New_York', hours: { tue: ['09:00-17:00'] }, exceptions: { '2026-11-27': [] } },
};

describe('calendars changed by a supervisor', () => {
  const h = useRoutingHarness();

  it('refuses a calendar that does not parse; keeps an accepted one through a take-over and a restart', async () => {
    const config = configFor(h.database('routing_calendars'), uniqueId('routing-calendars'), { ROUTING_CALENDARS_JSON: JSON.stringify(configured) });
    const ctxA = testContext('routing-a');
    const ctxB = testContext('routing-b');
    const ctxC = testContext('routing-c');
    const clients: { raw: { close(): void } }[] = [];
    try {
      const a = await startRouting(ctxA, config);
      const b = await startRouting(ctxB, config);
      expect(a.ownership.isActive).toBe(true);
      const onA = await client(a.grpcPort, 'sue', 'supervisor');
      const agentOnA = await client(a.grpcPort, 'ann', 'agent');
      clients.push(onA, agentOnA);
      const read = async (c: typeof onA) => JSON.parse((await c.call<object, GetCalendarsResponse>(c.raw.getCalendars, {})).calendarsJson) as unknown;
      expect(await read(onA)).toEqual(configured);

      await expect(agentOnA.call(agentOnA.raw.setCalendars, { calendarsJson: JSON.stringify(changed) })).rejects.toMatchObject({
        code: status.PERMISSION_DENIED,
      });
      const bad = JSON.stringify({ 'tier1/*/*': { zone: 'Europe/Pariss', hours: { mon: ['19:00-08:00'] } } });
      const refused = onA.call(onA.raw.setCalendars, { calendarsJson: bad });
      await expect(refused).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
      await expect(refused).rejects.toThrow(/zone "Europe\/Pariss" is not a known IANA time zone; .*"19:00-08:00" ends before it starts/);
      expect(await read(onA)).toEqual(configured);

      const answer = await onA.call<SetCalendarsRequest, SetCalendarsResponse>(onA.raw.setCalendars, { calendarsJson: JSON.stringify(changed) });
      expect(JSON.parse(answer.calendarsJson)).toEqual(changed);
      expect(a.engine.calendars).toEqual(changed);

      // A stops: B takes over from the changelog and holds the supervisor's calendars, not the configured ones.
      await ctxA.stop();
      await waitFor(() => b.ownership.isActive, 30_000, 'B to take over');
      const onB = await client(b.grpcPort, 'sue', 'supervisor');
      clients.push(onB);
      expect(await read(onB)).toEqual(changed);

      // A new instance after B stops (a restart of the service): the same.
      const c = await startRouting(ctxC, config);
      await ctxB.stop();
      await waitFor(() => c.ownership.isActive, 30_000, 'C to take over');
      const onC = await client(c.grpcPort, 'sue', 'supervisor');
      clients.push(onC);
      expect(await read(onC)).toEqual(changed);
    } finally {
      for (const cl of clients) cl.raw.close();
      await ctxA.stop();
      await ctxB.stop();
      await ctxC.stop();
    }
  }, 120_000);
});
