import { describe, expect, it } from 'vitest';
import { isGranted, rolesFor, type ServiceGrants } from './grants';

const grants: ServiceGrants<'GetWaitEstimate' | 'GetQueueStats' | 'ListAgents'> = { 'sms-voice': ['GetWaitEstimate'], 'ops-console': ['GetQueueStats'] };

describe('service grants', () => {
  it('lets a service make only the calls granted to it by name', () => {
    expect(isGranted(grants, { id: 'sms-voice', role: 'service' }, 'GetWaitEstimate')).toBe(true);
    expect(isGranted(grants, { id: 'sms-voice', role: 'service' }, 'GetQueueStats')).toBe(false);
    expect(isGranted(grants, { id: 'ops-console', role: 'service' }, 'GetQueueStats')).toBe(true);
    expect(isGranted(grants, { id: 'routing', role: 'service' }, 'GetWaitEstimate')).toBe(false);
    expect(isGranted(grants, { id: 'toString', role: 'service' }, 'GetWaitEstimate')).toBe(false);
  });

  it('leaves people to their roles', () => {
    expect(isGranted(grants, { id: 'sms-voice', role: 'supervisor' }, 'ListAgents')).toBe(true);
  });

  it('adds the service role to a call some service is granted, and only then', () => {
    expect(rolesFor(grants, 'GetWaitEstimate', ['supervisor'])).toEqual(['supervisor', 'service']);
    expect(rolesFor(grants, 'ListAgents', ['supervisor'])).toEqual(['supervisor']);
    expect(rolesFor(grants, 'GetQueueStats', ['ops', 'service'])).toEqual(['ops', 'service']);
  });
});
