// Traces across the services (docs/tracing.md): on when OTEL_EXPORTER_OTLP_ENDPOINT is set.
export * from './spans';

export interface TracingSettings {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_SERVICE_NAME?: string;
  OTEL_BSP_SCHEDULE_DELAY: number;
}

/** Starts exporting spans when a collector is configured; resolves to what stops it, or undefined. */
export async function startTracing(service: string, instanceId: string, settings: TracingSettings): Promise<(() => Promise<void>) | undefined> {
  const endpoint = settings.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return undefined;
  // Imported here so that a service without a collector never loads the SDK.
  const { startSdk } = await import('./sdk');
  return startSdk({ endpoint, serviceName: settings.OTEL_SERVICE_NAME ?? service, instanceId, scheduleDelayMs: settings.OTEL_BSP_SCHEDULE_DELAY });
}
