// A gRPC reflection client as a tool such as grpcurl is one: it knows nothing of our schemas,
// only grpc.reflection.v1, and asks the server what it serves and what a method takes.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { credentials, loadPackageDefinition, type ClientDuplexStream, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const reflectionProto = join(
  dirname(createRequire(import.meta.url).resolve('@grpc/reflection/package.json')),
  'build/proto/grpc/reflection/v1/reflection.proto',
);

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

export interface DescribedMethod {
  name: string;
  inputType: string;
  outputType: string;
  serverStreaming: boolean;
  inputFields: string[];
}

export function reflectionClient(address: string) {
  const definition = loadSync(reflectionProto, { keepCase: true });
  const grpcPackage = loadPackageDefinition(definition) as unknown as { grpc: { reflection: { v1: GrpcObject } } };
  const Client = grpcPackage.grpc.reflection.v1.ServerReflection as ServiceClientConstructor;
  const client = new Client(address, credentials.createInsecure());

  /** One request on a stream of its own; the first answer. */
  const ask = (request: Record<string, unknown>) =>
    new Promise<ReflectionResponse>((resolve, reject) => {
      const stream = (client as unknown as { ServerReflectionInfo(): ClientDuplexStream<unknown, ReflectionResponse> }).ServerReflectionInfo();
      stream.once('data', (response: ReflectionResponse) => {
        resolve(response);
        stream.end();
      });
      stream.once('error', reject);
      stream.write(request);
    });

  return {
    async listServices(): Promise<string[]> {
      const answer = await ask({ list_services: '*' });
      return (answer.list_services_response?.service ?? []).map((s) => s.name);
    },
    /** The method `package.Service.Method` as the server's descriptors describe it, with its request's fields. */
    async describeMethod(fullName: string): Promise<DescribedMethod> {
      const answer = await ask({ file_containing_symbol: fullName });
      if (answer.error_response) throw new Error(`reflection refused ${fullName}: ${answer.error_response.error_message}`);
      const files = (answer.file_descriptor_response?.file_descriptor_proto ?? []).map((b) => fromBinary(FileDescriptorProtoSchema, b));
      const serviceName = fullName.slice(0, fullName.lastIndexOf('.'));
      const methodName = fullName.slice(fullName.lastIndexOf('.') + 1);
      const method = files
        .flatMap((f) => f.service.map((s) => ({ f, s })))
        .find(({ f, s }) => `${f.package}.${s.name}` === serviceName)
        ?.s.method.find((m) => m.name === methodName);
      if (!method) throw new Error(`no method ${fullName} in the descriptors`);
      return {
        name: method.name,
        inputType: method.inputType,
        outputType: method.outputType,
        serverStreaming: method.serverStreaming,
        inputFields: messageFields(files, method.inputType),
      };
    },
    close: () => client.close(),
  };
}

function messageFields(files: FileDescriptorProto[], typeName: string): string[] {
  const wanted = typeName.replace(/^\./, '');
  for (const file of files) for (const message of file.messageType) if (`${file.package}.${message.name}` === wanted) return message.field.map((f) => f.name);
  throw new Error(`no message ${typeName} in the descriptors`);
}
