// The OpenTelemetry SDK, loaded only when a collector is configured: W3C trace context,
// async-local context across awaits, spans batched to the OTLP/HTTP (protobuf) exporter.
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { setTracingOn } from './spans';

export interface SdkSettings {
  endpoint: string;
  serviceName: string;
  instanceId: string;
  scheduleDelayMs: number;
}

/** Registers the SDK globally; the returned function flushes and stops it. */
export function startSdk(settings: SdkSettings): () => Promise<void> {
  const exporter = new OTLPTraceExporter({ url: `${settings.endpoint.replace(/\/+$/, '')}/v1/traces` });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName, 'service.instance.id': settings.instanceId }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: settings.scheduleDelayMs })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  setTracingOn(true);
  return async () => {
    setTracingOn(false);
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  };
}
