// Integration API: the HTTP/JSON API and the API channel for other applications, with API keys.
import { loadConfig } from '#libs/config';
import { runService } from '#libs/service';
import { integrationApiConfig } from './config';
import { startIntegrationApi } from './service';

runService('integration-api', async (ctx) => {
  const config = loadConfig(integrationApiConfig);
  const { port } = await startIntegrationApi(ctx, config);
  ctx.logger.info({ http: port }, 'integration-api listening');
});
