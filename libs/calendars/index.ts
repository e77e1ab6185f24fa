// Opening hours of queues: the arithmetic (calendar.ts) and the checked set with its pattern
// match (set.ts). Routing decides with them; the email service words its acknowledgement with them.
export * from './calendar';
export * from './set';
export * from './config';
export * from './clock';
