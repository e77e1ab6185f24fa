import { Kafka, logLevel, Partitioners } from 'kafkajs';
const kafka = new Kafka({ clientId: 'probe', brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING });
const admin = kafka.admin(); await admin.connect();
const t = 'probe-' + Date.now();
const names = [0,1,2,3].map(i => `${t}-e${i}`);
await admin.createTopics({ waitForLeaders: true, topics: [...names.map(topic => ({ topic, numPartitions: 3 })), { topic: t + '-c', numPartitions: 1 }] });
const p = kafka.producer({ transactionalId: t, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner, retry: { initialRetryTime: 10, multiplier: 1, maxRetryTime: 100, retries: 40 } });
await p.connect();
const N = Number(process.env.N ?? 2000);
const H = process.env.H === '0' ? undefined : { ce_specversion: '1.0', ce_id: 'conv-1234567-abc/3', ce_source: 'contactcenter/routing/host-1234', ce_type: 'contactcenter.v1.ConversationEvent', ce_time: new Date().toISOString(), 'content-type': 'application/protobuf' };
for (let i = 0; i < 8; i++) {
  const t0 = performance.now();
  const tx = await p.transaction();
  const ev = Array.from({ length: N * 0.6 }, (_, k) => ({ key: 'conv-' + k, value: Buffer.alloc(250, 'x'), headers: H }));
  const ch = Array.from({ length: N * 0.4 }, (_, k) => ({ key: 'conversation/conv-' + k, value: Buffer.alloc(500, 'y') }));
  await tx.sendBatch({ acks: -1, topicMessages: [...names.map((topic, j) => ({ topic, messages: ev.filter((_, k) => k % 4 === j) })), { topic: t + '-c', messages: ch }] });
  const t2 = performance.now();
  await tx.sendOffsets({ consumerGroupId: 'g' + t, topics: [{ topic: names[0], partitions: [{ partition: 0, offset: String(i + 1) }] }] });
  await tx.commit();
  console.log(`N ${N} send ${(t2 - t0).toFixed(1)} total ${(performance.now() - t0).toFixed(1)}`);
}
await p.disconnect(); await admin.deleteTopics({ topics: [...names, t + '-c'] }); await admin.disconnect();
