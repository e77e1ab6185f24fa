// The contact centre's own words, defined once for every service: channel names, how
// conversations are named, a wait in words, event ids and customer flags. No I/O.
export * from './channels';
export * from './conversation-refs';
export * from './customer-flags';
export * from './event-ids';
export * from './wait';
