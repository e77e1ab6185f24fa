// The desk's configuration: its own signing key and a session secret of its own.
import { describe, expect, it } from 'vitest';
import { createTokenVerifier, issueToken, readPublicKeys } from '#libs/auth';
import { loadConfig } from '#libs/config';
import { testAuthEnv, testKeys } from '#libs/testing';
import { agentDeskConfig } from '../src/config';

const SESSION = 's'.repeat(40);

describe('agent desk configuration', () => {
  it("needs the desk's own private key and its own session secret; the old shared secret is neither", () => {
    expect(() => loadConfig(agentDeskConfig, { AUTH_JWT_SECRET: 'j'.repeat(40) })).toThrow(
      /AUTH_PRIVATE_KEY_FILE: is required[\s\S]*AGENT_DESK_SESSION_SECRET: is required|AGENT_DESK_SESSION_SECRET: is required[\s\S]*AUTH_PRIVATE_KEY_FILE: is required/,
    );
    const config = loadConfig(agentDeskConfig, { ...testAuthEnv('agent-desk'), AGENT_DESK_SESSION_SECRET: SESSION });
    expect(config.AUTH_PRIVATE_KEY_FILE).toMatchObject({ issuer: 'agent-desk' });
    expect(config.AGENT_DESK_SESSION_SECRET).toBe(SESSION);
    expect(() => loadConfig(agentDeskConfig, { ...testAuthEnv('agent-desk'), AGENT_DESK_SESSION_SECRET: 'short' })).toThrow(
      /AGENT_DESK_SESSION_SECRET: must be at least 32 characters/,
    );
  });

  it('signs as the desk whatever key file it is given, so another issuer’s key makes no desk tokens', async () => {
    const config = loadConfig(agentDeskConfig, { AUTH_PRIVATE_KEY_FILE: testKeys().privateKeyFile('routing'), AGENT_DESK_SESSION_SECRET: SESSION });
    expect(config.AUTH_PRIVATE_KEY_FILE.issuer).toBe('agent-desk');
    const verify = createTokenVerifier({ keys: readPublicKeys(testKeys().publicKeysDir), audience: 'routing' });
    const token = await issueToken(config.AUTH_PRIVATE_KEY_FILE, { id: 'sue', role: 'supervisor' }, 'routing');
    await expect(verify(token)).rejects.toThrow("invalid token: token names issuer agent-desk but is signed with routing's key");
  });
});
