// A gRPC server with the standard health service and, when asked (GRPC_REFLECTION), server reflection,
// bound to the configured address.
import { Server, ServerCredentials, type CallOptions, type ChannelOptions, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { addGrpcHealth } from '../observability/grpc-health';
import { addGrpcReflection } from './grpc-reflection';
import type { ServiceContext } from './runtime';

export async function startGrpcServer(
  ctx: ServiceContext,
  address: { host: string; port: number },
  serviceNames: string[],
  register: (server: Server) => void,
  options: { reflection?: boolean } = {},
): Promise<{ server: Server; port: number }> {
  const server = new Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
  const setHealth = addGrpcHealth(server, serviceNames);
  register(server);
  if (options.reflection) addGrpcReflection(server, serviceNames);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${address.host}:${address.port}`, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  setHealth('SERVING');
  ctx.onStop('grpc server', async () => {
    setHealth('NOT_SERVING');
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });
  return { server, port };
}

/** A generated client's unary method in its four-argument form. */
export type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/** One unary call as a promise, ended by a deadline. */
export function unaryCall<Req, Res>(client: object, method: UnaryMethod<Req, Res>, request: Req, metadata: Metadata, timeoutMs: number): Promise<Res> {
  return new Promise((resolve, reject) =>
    method.call(client, request, metadata, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

/**
 * A client channel to routing, whose standbys answer every call with UNAVAILABLE: the name's
 * addresses are all connected (round_robin), and a call answered UNAVAILABLE is tried again on
 * the next one, so a caller reaches the active instance behind one name (a Kubernetes headless
 * Service lists every ready instance, deploy/k8s). Those answers change nothing, so retrying
 * them is safe; with one address it is a plain channel with three retries. The first retry waits
 * at most 10 ms: with a standby behind the name, about half the calls take that detour.
 */
export function routingChannel(address: string): { target: string; options: ChannelOptions } {
  const serviceConfig = {
    loadBalancingConfig: [{ round_robin: {} }],
    methodConfig: [
      {
        name: [{ service: 'contactcenter.v1.RoutingService' }],
        retryPolicy: { maxAttempts: 4, initialBackoff: '0.01s', maxBackoff: '0.2s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'] },
      },
    ],
  };
  return { target: `dns:///${address}`, options: { 'grpc.service_config': JSON.stringify(serviceConfig) } };
}
