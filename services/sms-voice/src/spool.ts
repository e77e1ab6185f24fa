// Store-and-forward for inbound contacts, as a mail transfer agent does: a contact Kafka does
// not acknowledge in time is written to the local spool and fsynced, and only then is Twilio
// answered 200; a forwarder sends spooled contacts to Kafka, in order and under their own
// ce_id, once the broker is back, and removes them. A restarted process forwards what the
// last one left.
import type http from 'node:http';
import path from 'node:path';
import type { Gauge, Counter, Registry } from 'prom-client';
import { ConfigError } from '#libs/config';
import { KafkaUnavailableError, topics, type EventProducer } from '#libs/kafka';
import { errorDetails, sharedCounter, sharedGauge, type Logger, type Readiness } from '#libs/observability';
import type { ContactReceived, ConversationEvent } from '#libs/proto';
import { SpoolFiles, type SpoolPosition } from './spool-files';
import { retryDelayMs, routeOf, SpoolQueue, type SpoolEntry, type SpoolLimits } from './spool-queue';
import { encodeSpoolLine, messageOf, spoolEventRecordOf, spoolRecordOf, type SpoolRecord } from './spool-records';

/** The spool cannot take the contact (full, or its write failed): the webhook is refused with 503, as without a spool. */
export class SpoolRefusedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SpoolRefusedError';
  }
}

/** Whether a record of this conversation (and customer number, for a contact) spooled at `at` is erased. */
export type SpoolErasure = (conversationId: string, customerNumber: string | undefined, at: Date) => boolean;

/** One forwarding round: what the producer puts in about one request. */
const ROUND_RECORDS = 500;
const ROUND_BYTES = 512 * 1024;

interface SpoolMetrics {
  spooled: Counter<string>;
  forwarded: Counter<string>;
  refused: Counter<'reason'>;
  skipped: Counter<'reason'>;
  depth: Gauge<string>;
  bytes: Gauge<string>;
}

export interface ContactSpoolOptions {
  dir: string;
  limits: SpoolLimits;
  producer: EventProducer;
  logger: Logger;
  metrics: Registry;
  now?: () => Date;
}

export class ContactSpool {
  private readonly queue: SpoolQueue<SpoolPosition>;
  private readonly records = new Map<SpoolEntry<SpoolPosition>, SpoolRecord>();
  private readonly writing = new Map<string, Promise<void>>();
  /** Waiting records of erased conversations: blanked on disk once forwarded. */
  private readonly erasedWaiting = new Set<SpoolEntry<SpoolPosition>>();
  private readonly metrics: SpoolMetrics;
  private brokerDown = false;
  private stopped = false;
  private wake?: () => void;
  private loop?: Promise<void>;

  private constructor(
    private readonly files: SpoolFiles,
    private readonly options: ContactSpoolOptions,
  ) {
    this.queue = new SpoolQueue(options.limits);
    this.metrics = spoolMetrics(options.metrics);
  }

  /** Opens the spool folder, takes in what a previous process left and starts forwarding it. */
  static async start(options: ContactSpoolOptions): Promise<ContactSpool> {
    const { files, records, skipped } = await SpoolFiles.open(options.dir, options.logger).catch((err: unknown) => {
      const code = (err as NodeJS.ErrnoException).code;
      // A folder that cannot be written is a setting to fix, said in one line like any other.
      if (code && ['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST'].includes(code)) {
        throw new ConfigError([
          {
            variable: 'SMS_VOICE_SPOOL_DIR',
            message: `cannot use ${path.resolve(options.dir)} (${code}); it must be a folder this process can write, on a disk that outlives it`,
          },
        ]);
      }
      throw err;
    });
    const spool = new ContactSpool(files, options);
    for (const s of skipped) {
      spool.metrics.skipped.inc({ reason: s.reason });
      options.logger.warn(
        { dir: files.dir, file: s.file, offset: s.offset, reason: s.reason, detail: s.detail },
        'skipped a damaged spool record (a write cut short by a crash, or a damaged file)',
      );
    }
    for (const r of records) {
      const entry = spool.queue.restore(r.record.id, r.record.key, r.size, r.position);
      if (entry) spool.records.set(entry, r.record);
    }
    options.logger.info(
      { dir: files.dir, records: spool.queue.depth },
      spool.queue.depth > 0 ? 'spool holds contacts from a previous run; forwarding them' : 'spool ready',
    );
    spool.updateGauges();
    spool.loop = spool.forward();
    return spool;
  }

  /** Kafka took the last publish (or nothing has failed yet). */
  get kafkaAcknowledging(): boolean {
    return !this.brokerDown;
  }

  /** A webhook's contact is safe either way: Kafka is taking contacts, or the spool has room. */
  get acceptsContacts(): boolean {
    return this.queue.enabled ? !this.brokerDown || this.queue.hasRoom() : !this.brokerDown;
  }

  get depth(): number {
    return this.queue.depth;
  }

  /**
   * Publishes the contact, or spools it when Kafka does not acknowledge it within the publish
   * timeout; `whenSpooled` is what to keep instead when the contact must change meaning on the
   * way (a call that cannot be queued becomes a callback request). Throws KafkaUnavailableError
   * with the spool off, SpoolRefusedError when the spool cannot take it.
   */
  deliver(contact: ContactReceived, whenSpooled: ContactReceived = contact): Promise<'published' | 'spooled'> {
    const now = this.now();
    return this.deliverRecord(spoolRecordOf(contact, now), spoolRecordOf(whenSpooled, now));
  }

  /** The same for a conversation event a webhook reports (Twilio does not resend those either). */
  deliverEvent(event: ConversationEvent): Promise<'published' | 'spooled'> {
    const record = spoolEventRecordOf(event, this.now());
    return this.deliverRecord(record, record);
  }

  private async deliverRecord(record: SpoolRecord, whenSpooled: SpoolRecord): Promise<'published' | 'spooled'> {
    if (routeOf(this.queue, record.key, this.brokerDown) === 'spool') return this.spool(whenSpooled);
    try {
      await this.publish(record);
      return 'published';
    } catch (err) {
      if (!(err instanceof KafkaUnavailableError) || !this.queue.enabled) throw err;
      return this.spool(whenSpooled);
    }
  }

  private now(): Date {
    return (this.options.now ?? (() => new Date()))();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await Promise.allSettled([...this.writing.values()]);
    await this.files.close();
  }

  private async publish(record: SpoolRecord): Promise<void> {
    const message = messageOf(record);
    try {
      const { producer } = this.options;
      if (message.kind === 'event') await producer.publish(topics.conversationEvents, record.key, message.value, { id: record.id });
      else await producer.publish(topics.contactInbound, record.key, message.value, { id: record.id });
    } catch (err) {
      if (err instanceof KafkaUnavailableError && !this.brokerDown) {
        this.brokerDown = true;
        this.options.logger.warn(errorDetails(err), 'Kafka is not acknowledging contacts; spooling them to local disk');
      }
      throw err;
    }
    if (this.brokerDown) {
      this.brokerDown = false;
      this.options.logger.info({ spooled: this.queue.depth }, 'Kafka acknowledges contacts again');
    }
  }

  private async spool(record: SpoolRecord): Promise<'spooled'> {
    const line = encodeSpoolLine(record);
    const admission = this.queue.reserve(record.id, record.key, line.length);
    if (admission.kind === 'full') {
      this.metrics.refused.inc({ reason: 'full' });
      throw new SpoolRefusedError(`${record.kind} ${record.id} not accepted: Kafka is unavailable and ${admission.reason}`);
    }
    if (admission.kind === 'duplicate') {
      // A Twilio retry of a contact already spooled: safe once the first copy's write is.
      await this.writing.get(record.id);
      return 'spooled';
    }
    const entry = admission.entry;
    this.records.set(entry, record);
    const written = this.files.append(line).then(
      (position) => this.queue.written(entry, position),
      (err: unknown) => {
        this.queue.release(entry);
        this.records.delete(entry);
        this.metrics.refused.inc({ reason: 'write_failed' });
        throw new SpoolRefusedError(`${record.kind} ${record.id} not accepted: Kafka is unavailable and the spool write failed`, { cause: err });
      },
    );
    this.writing.set(record.id, written);
    try {
      await written;
    } finally {
      this.writing.delete(record.id);
      this.updateGauges();
    }
    this.metrics.spooled.inc();
    this.wake?.();
    return 'spooled';
  }

  /**
   * Blanks on disk the forwarded records an erasure names (by conversation, or by the customer's
   * number for a contact, as of when it was spooled); those still waiting are blanked once
   * forwarded, since their event must still reach the topics in order. Answers how many.
   */
  async erase(erased: SpoolErasure): Promise<number> {
    const named = (record: SpoolRecord) => {
      const message = messageOf(record);
      const number = message.kind === 'contact' ? message.value.sender?.value : undefined;
      return erased(record.key, number, new Date(record.spooledAt));
    };
    for (const [entry, record] of this.records) if (named(record)) this.erasedWaiting.add(entry);
    const forwarded = (await this.files.forwardedRecords()).filter((r) => named(r.record));
    return (forwarded.length ? await this.files.blank(forwarded.map((r) => r.position)) : 0) + this.erasedWaiting.size;
  }

  /** Sends the oldest spooled contacts, round after round, until stopped; never gives up on a record. */
  private async forward(): Promise<void> {
    let failedRounds = 0;
    while (!this.stopped) {
      const chunk = this.queue.next(ROUND_RECORDS, ROUND_BYTES);
      if (chunk.length === 0) {
        await this.pause();
        continue;
      }
      // Handed to the producer in spool order, so they reach each partition in that order.
      const results = await Promise.allSettled(chunk.map((entry) => this.publish(this.records.get(entry)!)));
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) {
        failedRounds++;
        if (!(failure.reason instanceof KafkaUnavailableError))
          this.options.logger.error({ records: chunk.length, ...errorDetails(failure.reason) }, 'forwarding spooled contacts failed; retrying');
        await this.pause(retryDelayMs(failedRounds));
        continue;
      }
      failedRounds = 0;
      await this.markForwarded(chunk);
    }
  }

  private async markForwarded(chunk: SpoolEntry<SpoolPosition>[]): Promise<void> {
    try {
      await this.files.forwarded(chunk.at(-1)!.position!);
      const erased = chunk.filter((entry) => this.erasedWaiting.delete(entry));
      if (erased.length) await this.files.blank(erased.map((entry) => entry.position!));
    } catch (err) {
      // The records are on Kafka; a marker left behind only means a restart sends them again
      // (and the erasure, applied again at start, blanks them then).
      this.options.logger.error({ dir: this.files.dir, ...errorDetails(err) }, 'recording forwarded spool records failed');
    }
    for (const entry of chunk) this.records.delete(entry);
    this.queue.forwarded(chunk.length);
    this.metrics.forwarded.inc(chunk.length);
    this.updateGauges();
  }

  /** Waits for a new record, for `ms`, or for stop(). */
  private pause(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      function done() {
        if (timer) clearTimeout(timer);
        resolve();
      }
      this.wake = done;
      if (this.stopped) done();
    });
  }

  private updateGauges(): void {
    this.metrics.depth.set(this.queue.depth);
    this.metrics.bytes.set(this.queue.bytes);
  }
}

function spoolMetrics(registry: Registry): SpoolMetrics {
  return {
    spooled: sharedCounter(registry, {
      name: 'cc_sms_voice_spooled_total',
      help: 'Contacts written to the local spool because Kafka did not acknowledge them',
    }),
    forwarded: sharedCounter(registry, { name: 'cc_sms_voice_spool_forwarded_total', help: 'Spooled contacts forwarded to Kafka' }),
    refused: sharedCounter(registry, {
      name: 'cc_sms_voice_spool_refused_total',
      help: 'Contacts refused (503) because the spool was full or its write failed',
      labelNames: ['reason'],
    }),
    skipped: sharedCounter(registry, {
      name: 'cc_sms_voice_spool_skipped_total',
      help: 'Damaged spool records skipped at start-up (torn last write, bad checksum)',
      labelNames: ['reason'],
    }),
    depth: sharedGauge(registry, { name: 'cc_sms_voice_spool_depth', help: 'Contacts in the local spool waiting for Kafka' }),
    bytes: sharedGauge(registry, { name: 'cc_sms_voice_spool_bytes', help: 'Bytes of the contacts waiting in the local spool' }),
  };
}

/**
 * GET /readyz/webhooks, for the load balancer in front of Twilio: ready while this instance can
 * keep a webhook's contact safe (store reachable, and Kafka acknowledging or room in the spool).
 * /readyz stays strict and says Kafka is down.
 */
export function webhookReadiness(readiness: Readiness, spool: ContactSpool) {
  return (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    if ((req.url ?? '').split('?')[0] !== '/readyz/webhooks' || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    void readiness.evaluate().then(({ checks }) => {
      const result = { mongodb: checks.mongodb !== false, kafka: spool.kafkaAcknowledging, spool: spool.acceptsContacts };
      const ready = result.mongodb && result.spool;
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ready, checks: result, spooled: spool.depth }));
    });
    return true;
  };
}
