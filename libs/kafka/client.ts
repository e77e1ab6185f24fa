// One kafkajs client per process, logging through the service's logger.
import { Kafka, logLevel, type ISocketFactory, type KafkaConfig } from 'kafkajs';
import type { Logger } from '../observability/logger';

const levelNames: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

const CONCURRENT_TRANSACTION = /another concurrent operation on the same transaction/;

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Replaces how sockets are opened; fault-injection tests use it to cut the network. */
  socketFactory?: ISocketFactory;
  connectionTimeoutMs?: number;
}

export function createKafka(options: KafkaClientOptions): Kafka {
  const log = options.logger.child({ component: 'kafkajs' });
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: 10000,
    // Short, bounded back-off: a broker coming back is used within about two seconds.
    retry: { initialRetryTime: 100, maxRetryTime: 2000, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, ...rest } = entry;
        // A transaction begun right after a commit is answered CONCURRENT_TRANSACTIONS and retried
        // at once; kafkajs logs each of those as an error although nothing failed.
        const routine = CONCURRENT_TRANSACTION.test(message) || CONCURRENT_TRANSACTION.test(String(rest.error ?? ''));
        log[routine ? 'debug' : (levelNames[level] ?? 'info')](rest, message);
      },
  };
  if (options.socketFactory) config.socketFactory = options.socketFactory;
  return new Kafka(config);
}
