export * from './runtime';
export * from './kafka';
export * from './mongo';
export * from './grpc';
export * from './ops';
