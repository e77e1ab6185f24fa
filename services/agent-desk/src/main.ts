// Agent desk: the web application agents, experts and supervisors work in.
import { loadConfig } from '#libs/config';
import { runService } from '#libs/service';
import { agentDeskConfig, startAgentDesk } from './service';

runService('agent-desk', async (ctx) => {
  const config = loadConfig(agentDeskConfig);
  const { port } = await startAgentDesk(ctx, config);
  ctx.logger.info({ http: port }, 'agent-desk listening');
});
