// What the visitor-facing handlers share, built once by service.ts.
import type { Logger } from '#libs/observability';
import type { ChatAdmission } from './admission';
import type { ChatConfig } from './config';
import type { ConnectedVisitors } from './connected';
import type { ChatEvents } from './kafka';
import type { ChatMetrics } from './metrics';
import type { VisitorSession } from './session';
import type { ChatStore } from './store';
import type { Verifier } from './verify';

export interface ChatParts {
  config: ChatConfig;
  store: ChatStore;
  events: ChatEvents;
  connected: ConnectedVisitors<VisitorSession>;
  admission: ChatAdmission;
  verifier: Verifier;
  metrics: ChatMetrics;
  log: Logger;
}
