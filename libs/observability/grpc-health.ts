// The standard grpc.health.v1 service, so any gRPC health probe can ask.
import type { Server } from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';

export function addGrpcHealth(server: Server, serviceNames: string[]): (status: ServingStatus) => void {
  const health = new HealthImplementation(Object.fromEntries(['', ...serviceNames].map((n) => [n, 'NOT_SERVING' as ServingStatus])));
  health.addToServer(server);
  return (status) => {
    for (const name of ['', ...serviceNames]) health.setStatus(name, status);
  };
}
