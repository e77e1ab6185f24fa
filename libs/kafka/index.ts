export * from './topics';
export * from './cloudevents';
export * from './client';
export * from './admin';
export * from './producer';
export * from './consumer';
export { consumedContext } from './tracing';
export * from './compacted-tail';
