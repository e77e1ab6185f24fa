// What the chat counts: visitors' frames by outcome, connections it closed, and how long an ack takes.
import type { Registry } from 'prom-client';
import { sharedCounter, sharedHistogram } from '#libs/observability';

export function chatMetrics(registry: Registry) {
  return {
    frames: sharedCounter(registry, { name: 'cc_chat_frames_total', help: 'Frames from visitors, by outcome', labelNames: ['outcome'] }),
    closes: sharedCounter(registry, { name: 'cc_chat_closed_total', help: 'Connections closed by the service, by reason', labelNames: ['reason'] }),
    ackLatency: sharedHistogram(registry, {
      name: 'cc_chat_ack_seconds',
      help: 'Visitor message received to ack sent (includes the Kafka acknowledgement)',
      labelNames: [],
      buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5],
    }),
  };
}

export type ChatMetrics = ReturnType<typeof chatMetrics>;
