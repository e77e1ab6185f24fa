// A gRPC server with the standard health service, bound to the configured address.
import { Server, ServerCredentials, type CallOptions, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { addGrpcHealth } from '../observability/grpc-health';
import type { ServiceContext } from './runtime';

export async function startGrpcServer(
  ctx: ServiceContext,
  address: { host: string; port: number },
  serviceNames: string[],
  register: (server: Server) => void,
): Promise<{ server: Server; port: number }> {
  const server = new Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
  const setHealth = addGrpcHealth(server, serviceNames);
  register(server);
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
