export * from './logger';
export * from './metrics';
export * from './http';
export * from './grpc-health';
