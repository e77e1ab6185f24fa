// The contact centre's own words, defined once for every service: channel names, how
// conversations are named, a wait in words, event ids, customer flags, SMS segments, phone numbers and whom a
// contact is made for, and one spelling per customer identity. No I/O.
export * from './channels';
export * from './conversation-refs';
export * from './customer-flags';
export * from './event-ids';
export * from './sms-segments';
export * from './wait';
export * from './on-behalf';
export * from './phone-numbers';
export * from './recipients';
export * from './identity';
