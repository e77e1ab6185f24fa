// An OTLP/HTTP collector that drops what it is sent, in a process of its own (forked by
// tracing-arms.ts), so the service's spans cost it the export over loopback and no more.
import { startOtlpReceiver } from '#libs/testing/otlp-receiver';

const receiver = await startOtlpReceiver({ keep: false });
process.send!({ url: receiver.url });
// Asked at the end: how much was exported, to show the "on" arm really exported its spans.
process.on('message', () => process.send!({ received: receiver.received }));
process.on('disconnect', () => void receiver.close().then(() => process.exit(0)));
