// Wires Kafka for a service: client, topics, the shared producer, and readiness.
import type { Kafka } from 'kafkajs';
import { createKafka, ensureTopics, EventConsumer, EventProducer, type EventConsumerOptions } from '../kafka';
import type { ServiceContext } from './runtime';

export interface KafkaSettings {
  KAFKA_BROKERS: string[];
  KAFKA_TOPIC_PARTITIONS: number;
  KAFKA_REPLICATION_FACTOR: number;
  KAFKA_EVENT_RETENTION_DAYS?: number;
  KAFKA_FETCH_MAX_WAIT_MS?: number;
}

export interface ServiceKafka {
  kafka: Kafka;
  producer: EventProducer;
  consumer(options: Omit<EventConsumerOptions, 'logger' | 'producer' | 'metrics'>, edge?: ConsumerReadiness): EventConsumer;
}

export interface ConsumerReadiness {
  /**
   * Ready while the consumer first joins its group, for a service whose requests do not need
   * the group (the join can wait out a dead member's session); after the join as any consumer.
   */
  readyWhileJoining?: boolean;
}

export async function connectKafka(
  ctx: ServiceContext,
  config: KafkaSettings,
  extra: { publishTimeoutMs?: number; socketFactory?: import('kafkajs').ISocketFactory } = {},
): Promise<ServiceKafka> {
  const kafka = createKafka({
    brokers: config.KAFKA_BROKERS,
    clientId: `${ctx.name}-${ctx.instanceId}`,
    logger: ctx.logger,
    socketFactory: extra.socketFactory,
  });
  await ensureTopics(kafka, {
    partitions: config.KAFKA_TOPIC_PARTITIONS,
    replicationFactor: config.KAFKA_REPLICATION_FACTOR,
    retentionMs: config.KAFKA_EVENT_RETENTION_DAYS ? config.KAFKA_EVENT_RETENTION_DAYS * 86_400_000 : undefined,
  });
  const producer = new EventProducer(kafka, {
    source: `contactcenter/${ctx.name}/${ctx.instanceId}`,
    metrics: ctx.metrics,
    logger: ctx.logger,
    publishTimeoutMs: extra.publishTimeoutMs,
  });
  await producer.connect();
  ctx.onStop('kafka producer', () => producer.disconnect());
  ctx.readiness.add('kafka', () => producer.isConnected);
  return {
    kafka,
    producer,
    consumer(options, edge = {}) {
      const consumer = new EventConsumer(kafka, { maxWaitMs: config.KAFKA_FETCH_MAX_WAIT_MS, ...options, logger: ctx.logger, producer, metrics: ctx.metrics });
      ctx.onStop(`kafka consumer ${options.groupId}`, () => consumer.stop());
      // Not ready while it starts (unless told otherwise), after it stopped, and while a record waits on a dependency.
      let joined = false;
      ctx.readiness.add(`kafka-consumer:${options.groupId}`, () => {
        joined ||= consumer.isRunning;
        return !joined && edge.readyWhileJoining ? true : consumer.readiness();
      });
      return consumer;
    },
  };
}
