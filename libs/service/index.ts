export * from './runtime';
export * from './kafka';
export * from './mongo';
export * from './grpc';
export { grpcReflectionConfig } from './grpc-reflection';
export * from './grpc-errors';
export * from './grpc-handlers';
export * from './ops';
