// Web chat channel: widget, WebSocket sessions, replies and wait estimates pushed live.
import { loadConfig } from '../../../libs/config';
import { runService } from '../../../libs/service';
import { chatConfigShape } from './config';
import { startChat } from './service';

runService('chat', async (ctx) => {
  const config = loadConfig(chatConfigShape);
  await startChat(ctx, config);
});
