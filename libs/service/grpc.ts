// A gRPC server with the standard health service, bound to the configured address.
import { Server, ServerCredentials } from '@grpc/grpc-js';
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
