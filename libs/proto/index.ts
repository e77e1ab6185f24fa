// The generated protobuf types and gRPC definitions (from proto/, by `npm run proto`), in one place.
export * from './gen/contactcenter/v1/common.pb';
export * from './gen/contactcenter/v1/events.pb';
export * from './gen/contactcenter/v1/customer_record.pb';
export * from './gen/contactcenter/v1/routing.pb';
