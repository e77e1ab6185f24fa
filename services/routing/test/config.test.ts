import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '#libs/config';
import { testAuthEnv } from '#libs/testing';
import { checkRoutingConfig, routingConfig, routingPolicy } from '../src/config';
import { DEFAULT_POLICY } from '../src/core/policy';

const load = (env: Record<string, string> = {}) => loadConfig(routingConfig, { ...testAuthEnv('routing'), ...env });

describe('routing configuration', () => {
  it('takes the policy tunables from the environment, over the defaults', () => {
    const config = load({ ROUTING_OFFER_TIMEOUT_MS: '5000', ROUTING_LAST_AGENT_DAYS: '2', ROUTING_ACCOUNT_MANAGER_WAIT_MS: '8000' });
    const policy = routingPolicy(config, { maxMissedOffers: 9 });
    expect(policy).toMatchObject({ offerTimeoutMs: 5000, lastAgentWindowMs: 2 * 86_400_000, maxMissedOffers: 9, rules: DEFAULT_POLICY.rules });
    expect(policy.stepTimeoutMs).toEqual({ ...DEFAULT_POLICY.stepTimeoutMs, accountManager: 8000 });
  });

  it('refuses a heartbeat longer than a third of the session timeout, and an address of customer-record without a key', () => {
    expect(() => checkRoutingConfig(load({ ROUTING_HEARTBEAT_MS: '2500', ROUTING_SESSION_TIMEOUT_MS: '7000' }))).toThrow(
      /ROUTING_HEARTBEAT_MS: must be at most a third/,
    );
    const noKey = { ...load(), CUSTOMER_RECORD_GRPC_ADDR: '127.0.0.1:9', AUTH_PRIVATE_KEY_FILE: undefined };
    expect(() => checkRoutingConfig(noKey)).toThrow(ConfigError);
    expect(() => checkRoutingConfig(noKey)).toThrow(/AUTH_PRIVATE_KEY_FILE: must be set when CUSTOMER_RECORD_GRPC_ADDR is/);
    expect(() => checkRoutingConfig(load())).not.toThrow();
  });

  it('takes the calendars, and refuses at start-up a calendar that does not parse, naming each problem', () => {
    const cal = { zone: 'Europe/Paris', hours: { mon: ['09:00-18:00'] }, holidays: ['2026-12-25'] };
    expect(routingPolicy(load({ ROUTING_CALENDARS_JSON: JSON.stringify({ 'tier1/*/*': cal }) })).calendars).toEqual({ 'tier1/*/*': cal });
    expect(routingPolicy(load()).calendars).toEqual({});
    const bad = JSON.stringify({ '*/*/*': { zone: 'Mars/Olympus', hours: { mon: ['18:00-09:00'] }, holidays: ['2026-13-01'] } });
    expect(() => load({ ROUTING_CALENDARS_JSON: bad })).toThrow(ConfigError);
    expect(() => load({ ROUTING_CALENDARS_JSON: bad })).toThrow(
      /ROUTING_CALENDARS_JSON: calendar "\*\/\*\/\*": zone "Mars\/Olympus" is not a known IANA time zone/,
    );
    expect(() => load({ ROUTING_CALENDARS_JSON: bad })).toThrow(/"18:00-09:00" ends before it starts/);
    expect(() => load({ ROUTING_CALENDARS_JSON: bad })).toThrow(/holiday "2026-13-01" is not a date/);
  });
});
