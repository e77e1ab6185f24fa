// A small authoritative DNS server on loopback UDP for the sender-check tests: it serves a test
// zone's TXT (SPF, DKIM, DMARC) and A records, answers NXDOMAIN for names it does not have, and
// can be told to fail (SERVFAIL) or stay silent (a timeout) for chosen domains.
import { createSocket, type RemoteInfo } from 'node:dgram';
import dnsPacket from 'dns-packet';

export interface TestZone {
  /** TXT records by name; a long record is split into 255-byte strings as DNS requires. */
  txt?: Record<string, string[]>;
  a?: Record<string, string[]>;
  /** Names at or under these domains get SERVFAIL. */
  servfail?: string[];
  /** Queries for names at or under these domains are never answered. */
  silent?: string[];
}

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 };
const under = (name: string, domains: string[] = []) => domains.some((d) => name === d || name.endsWith(`.${d}`));
const chunks = (s: string) => (s.match(/[\s\S]{1,255}/g) ?? ['']).map((c) => Buffer.from(c));

export interface TestDns {
  /** "127.0.0.1:port", for EMAIL_DNS_SERVERS. */
  server: string;
  /** How many queries it received, per "name/TYPE". */
  queries: Map<string, number>;
  close(): Promise<void>;
}

export async function startTestDns(zone: TestZone): Promise<TestDns> {
  const socket = createSocket('udp4');
  const queries = new Map<string, number>();
  const names = new Set([...Object.keys(zone.txt ?? {}), ...Object.keys(zone.a ?? {})].map((n) => n.toLowerCase()));

  const answer = (msg: Buffer, from: RemoteInfo) => {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return; // not DNS: a real server drops it too
    }
    const question = query.questions?.[0];
    if (!question) return;
    const name = question.name.toLowerCase();
    queries.set(`${name}/${question.type}`, (queries.get(`${name}/${question.type}`) ?? 0) + 1);
    if (under(name, zone.silent)) return;
    let rcode = RCODE.NOERROR;
    const answers: dnsPacket.Answer[] = [];
    if (under(name, zone.servfail)) rcode = RCODE.SERVFAIL;
    else if (!names.has(name)) rcode = RCODE.NXDOMAIN;
    else if (question.type === 'TXT') {
      for (const record of zone.txt?.[name] ?? []) answers.push({ type: 'TXT', name: question.name, ttl: 60, class: 'IN', data: chunks(record) });
    } else if (question.type === 'A') {
      for (const address of zone.a?.[name] ?? []) answers.push({ type: 'A', name: question.name, ttl: 60, class: 'IN', data: address });
    }
    const response = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | rcode,
      questions: [question],
      answers,
    });
    socket.send(response, from.port, from.address);
  };

  socket.on('message', answer);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  return {
    server: `127.0.0.1:${socket.address().port}`,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
