// CloudEvents binary-mode headers (https://github.com/cloudevents/spec, Kafka protocol binding):
// every record says what it is, so any Kafka tool can tell.
import { randomUUID } from 'node:crypto';
import type { IHeaders } from 'kafkajs';

const CONTENT_TYPE = 'application/protobuf';

export interface CloudEventAttributes {
  id: string;
  source: string;
  type: string;
  time: string;
  specversion: string;
}

export interface CloudEventHeaders {
  [header: string]: string;
  ce_specversion: string;
  ce_id: string;
  ce_source: string;
  ce_type: string;
  ce_time: string;
  'content-type': string;
}

export function cloudEventHeaders(type: string, source: string, id: string = randomUUID(), time: Date = new Date()): CloudEventHeaders {
  return {
    ce_specversion: '1.0',
    ce_id: id,
    ce_source: source,
    ce_type: type,
    ce_time: time.toISOString(),
    'content-type': CONTENT_TYPE,
  };
}

export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === null) return undefined;
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

class MissingCloudEventHeaderError extends Error {
  constructor(readonly header: string) {
    super(`record has no ${header} header`);
    this.name = 'MissingCloudEventHeaderError';
  }
}

/** Reads the CloudEvents attributes of a record, or says which required one is missing. */
export function readCloudEvent(headers: IHeaders | undefined): CloudEventAttributes {
  const get = (name: string) => {
    const value = headerString(headers, name);
    if (!value) throw new MissingCloudEventHeaderError(name);
    return value;
  };
  return { id: get('ce_id'), source: get('ce_source'), type: get('ce_type'), time: get('ce_time'), specversion: get('ce_specversion') };
}
