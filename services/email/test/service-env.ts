// What every email test's service shares: the test broker and store, its own database, and
// ports the system picks, so tests running side by side never take each other's. They follow no
// routing deployment's calendars unless a test names its own (EMAIL_CALENDARS_DEPLOYMENT).
import { KAFKA_BROKERS, MONGODB_URI } from '#libs/testing';

export function emailTestEnv(database: string): Record<string, string> {
  return { KAFKA_BROKERS: KAFKA_BROKERS.join(','), MONGODB_URI, MONGODB_DATABASE: database, SMTP_PORT: '0', HTTP_PORT: '0', EMAIL_CALENDARS_DEPLOYMENT: '' };
}
