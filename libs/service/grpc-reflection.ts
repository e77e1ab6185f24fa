// gRPC server reflection (grpc.reflection.v1 and v1alpha), so grpcurl and similar tools can list a
// service's methods and build its messages without our stubs. It answers from the schemas in
// proto/, the same files the generated code comes from, and names only the service given: the
// schema is public in the repository and reflection carries no customer data and runs no call, so,
// like grpc.health.v1, it needs no token. Every call it describes still needs one.
import { fileURLToPath } from 'node:url';
import type { Server } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { bool } from '../config';

const PROTO_ROOT = fileURLToPath(new URL('../../proto', import.meta.url));

/** The services' schema files under proto/, by full service name. */
const SCHEMA_FILES: Readonly<Record<string, string>> = {
  'contactcenter.v1.RoutingService': 'contactcenter/v1/routing.proto',
  'contactcenter.v1.CustomerRecordService': 'contactcenter/v1/customer_record.proto',
};

export const grpcReflectionConfig = {
  /** Serve gRPC server reflection, so grpcurl and similar tools list and describe the API without the .proto files; false hides the schema. */
  GRPC_REFLECTION: bool(true),
};

export function addGrpcReflection(server: Server, serviceNames: readonly string[]): void {
  const files = serviceNames.map((name) => {
    const file = SCHEMA_FILES[name];
    if (!file) throw new Error(`no schema file known for ${name}`);
    return file;
  });
  // keepCase: the descriptors carry the field names as the .proto writes them.
  const definition = loadSync(files, { includeDirs: [PROTO_ROOT], keepCase: true });
  new ReflectionService(definition, { services: [...serviceNames] }).addToServer(server);
}
