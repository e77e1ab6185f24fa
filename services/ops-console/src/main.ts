// Ops console: live event stream, queue and SLA views, dead letters.
import { runService } from '#libs/service';
import { loadOpsConsoleConfig } from './config';
import { startOpsConsole } from './service';

runService('ops-console', async (ctx) => {
  const config = loadOpsConsoleConfig();
  const console = await startOpsConsole(ctx, config);
  ctx.logger.info({ url: console.url }, 'ops-console listening');
});
