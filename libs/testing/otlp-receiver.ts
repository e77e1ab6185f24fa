// A local OTLP/HTTP collector for tests and benchmarks: it answers every POST to /v1/traces
// and decodes the spans of each ExportTraceServiceRequest (protobuf), or drops them unread.
// Only what the checks need is decoded; field numbers from opentelemetry/proto trace/v1.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { BinaryReader } from '@bufbuild/protobuf/wire';

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startNs: bigint;
  attributes: Record<string, string | number | boolean>;
  links: { traceId: string; spanId: string }[];
}

export interface OtlpReceiver {
  /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans: ReceivedSpan[];
  /** Export requests and their bytes received, kept or not. */
  received: { requests: number; bytes: number };
  close(): Promise<void>;
}

/** Reads a message's fields, calling `field` for each; anything it does not read is skipped. */
function fields(bytes: Uint8Array, field: (no: number, reader: BinaryReader) => boolean): void {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [no, type] = reader.tag();
    if (!field(no, reader)) reader.skip(type, no);
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function anyValue(bytes: Uint8Array): string | number | boolean {
  let value: string | number | boolean = '';
  fields(bytes, (no, r) => {
    if (no === 1) value = r.string();
    else if (no === 2) value = r.bool();
    else if (no === 3) value = Number(r.int64());
    else if (no === 4) value = r.double();
    else return false;
    return true;
  });
  return value;
}

function keyValue(bytes: Uint8Array, into: Record<string, string | number | boolean>): void {
  let key = '';
  let value: string | number | boolean = '';
  fields(bytes, (no, r) => {
    if (no === 1) key = r.string();
    else if (no === 2) value = anyValue(r.bytes());
    else return false;
    return true;
  });
  into[key] = value;
}

function span(bytes: Uint8Array, service: string): ReceivedSpan {
  const s: ReceivedSpan = { service, traceId: '', spanId: '', parentSpanId: '', name: '', kind: 0, startNs: 0n, attributes: {}, links: [] };
  fields(bytes, (no, r) => {
    if (no === 1) s.traceId = hex(r.bytes());
    else if (no === 2) s.spanId = hex(r.bytes());
    else if (no === 4) s.parentSpanId = hex(r.bytes());
    else if (no === 5) s.name = r.string();
    else if (no === 6) s.kind = r.int32();
    else if (no === 7) s.startNs = BigInt(r.fixed64());
    else if (no === 9) keyValue(r.bytes(), s.attributes);
    else if (no === 13) {
      const link = { traceId: '', spanId: '' };
      fields(r.bytes(), (n, lr) => (n === 1 ? ((link.traceId = hex(lr.bytes())), true) : n === 2 ? ((link.spanId = hex(lr.bytes())), true) : false));
      s.links.push(link);
    } else return false;
    return true;
  });
  return s;
}

/** The spans of one ExportTraceServiceRequest, each with its resource's service.name. */
function decodeTraceRequest(body: Uint8Array): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  fields(body, (no, r) => {
    if (no !== 1) return false;
    const resourceSpans = r.bytes();
    const resource: Record<string, string | number | boolean> = {};
    const scopes: Uint8Array[] = [];
    fields(resourceSpans, (n, rr) => {
      if (n === 1) fields(rr.bytes(), (a, ar) => (a === 1 ? (keyValue(ar.bytes(), resource), true) : false));
      else if (n === 2) scopes.push(rr.bytes());
      else return false;
      return true;
    });
    const service = String(resource['service.name'] ?? '');
    for (const scope of scopes) fields(scope, (n, sr) => (n === 2 ? (out.push(span(sr.bytes(), service)), true) : false));
    return true;
  });
  return out;
}

/** Starts a receiver on a free loopback port; `keep: false` drops what it is sent (benchmarks). */
export async function startOtlpReceiver(options: { keep?: boolean } = {}): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const received = { requests: 0, bytes: 0 };
  const keep = options.keep ?? true;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') return void res.writeHead(404).end();
      const body = Buffer.concat(chunks);
      received.requests++;
      received.bytes += body.length;
      if (keep) spans.push(...decodeTraceRequest(req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body));
      // An empty ExportTraceServiceResponse: everything accepted.
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
