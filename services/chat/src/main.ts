// Web chat channel: widget, WebSocket sessions, replies and wait estimates pushed live.
import { loadConfig } from '#libs/config';
import { runService } from '#libs/service';
import { chatConfig } from './config';
import { startChat } from './service';

runService('chat', async (ctx) => {
  const config = loadConfig(chatConfig);
  await startChat(ctx, config);
});
