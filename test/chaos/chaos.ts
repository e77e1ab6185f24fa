// The fault suite: steady load on every channel while, one at a time, the broker, the store and
// each service are killed with kill -9 (or frozen) and brought back; then the topics and the store
// are asked what happened. One row per fault: accepted, lost, doubled, dead letters, seconds to
// recover. Exits 1 when anything was lost or doubled, a transient fault left a dead letter, or a
// service was not ready again within 30 s.
//   npm run chaos              every fault
//   npm run chaos -- --short   the broker, the store and the active routing instance (in npm test)
//   npm run chaos -- --only=chat,email   the faults whose names contain one of the words
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureKeyPairs, readSigningKey, type IssuerName } from '#libs/auth';
import { Agents } from './agents';
import { type Fault, faultsFor } from './faults';
import { Load } from './load';
import { Outbox } from './outbox';
import { ContextReads } from './reads';
import { printReads, printTable, rowsFor, type PhaseWindow } from './report';
import { freePorts, Infrastructure, ROOT, ServiceProcess, sleep, type ServiceSpec } from './system';
import { describeGroups, gatherFindings, type Findings } from './verdict';

const short = process.argv.includes('--short');
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
  .filter(Boolean);
const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
const mongoUri = process.env.MONGODB_URI ?? '';
if (brokers.length === 0 || !mongoUri) throw new Error("KAFKA_BROKERS and MONGODB_URI must name the suite's own broker and store: run npm run chaos");

const RECOVERY_LIMIT_S = 30;
/** A desk's read of a customer context that takes longer than this is a read missed: the desk's own deadline. */
const READ_BUDGET_MS = 5000;
const run = randomBytes(3).toString('hex');
const logDir = path.join(ROOT, '.local', 'chaos', run);
mkdirSync(logDir, { recursive: true });

const {
  smtp,
  emailHttp,
  sms,
  chatA,
  chatB,
  crAGrpc,
  crAHttp,
  crBGrpc,
  crBHttp,
  routingAGrpc,
  routingAHttp,
  routingBGrpc,
  routingBHttp,
  outboxSmtp,
  outboxTwilio,
} = await freePorts([
  'smtp',
  'emailHttp',
  'sms',
  'chatA',
  'chatB',
  'crAGrpc',
  'crAHttp',
  'crBGrpc',
  'crBHttp',
  'routingAGrpc',
  'routingAHttp',
  'routingBGrpc',
  'routingBHttp',
  'outboxSmtp',
  'outboxTwilio',
] as const);
const secrets = { chat: randomBytes(32).toString('base64url'), twilio: randomBytes(16).toString('hex') };
const company = '+14155550100';
// A key pair per issuer for this run; each service gets its own private key only (signs()).
const keys = ensureKeyPairs(path.join(logDir, 'keys'));
const signs = (issuer: IssuerName) => ({ AUTH_PRIVATE_KEY_FILE: keys.privateKeyFile(issuer) });
const common = {
  KAFKA_BROKERS: brokers.join(','),
  MONGODB_URI: mongoUri,
  MONGODB_DATABASE: 'contactcenter',
  KAFKA_REPLICATION_FACTOR: process.env.KAFKA_REPLICATION_FACTOR ?? '1',
  LOG_LEVEL: 'info',
  AUTH_PUBLIC_KEYS_DIR: keys.publicKeysDir,
  // customer-record runs as two instances; the fault kills the first, so routing asks the
  // second, as a Kubernetes Service sends calls only to endpoints that are up.
  CUSTOMER_RECORD_GRPC_ADDR: `127.0.0.1:${crBGrpc}`,
};
// Every simulated visitor comes from this machine's address: the caps per address would stop the load.
const chatCaps = { CHAT_MAX_SOCKETS_PER_ADDRESS: '100000', CHAT_MAX_NEW_CONVERSATIONS_PER_ADDRESS: '100000', CHAT_MAX_NEW_CONVERSATIONS: '100000' };
const routing = (name: string, grpc: number, http: number): ServiceSpec => ({
  name,
  service: 'routing',
  httpPort: http,
  env: { ...common, ...signs('routing'), GRPC_PORT: String(grpc), HTTP_PORT: String(http) },
});
const erasureKey = randomBytes(32).toString('base64url');
const customerRecord = (name: string, grpc: number, http: number): ServiceSpec => ({
  name,
  service: 'customer-record',
  httpPort: http,
  // The shortest session the broker allows: a killed instance's partitions move on soonest.
  env: { ...common, ERASURE_KEY: erasureKey, GRPC_PORT: String(grpc), HTTP_PORT: String(http), PROJECTION_SESSION_TIMEOUT_MS: '6000' },
});
const specs: ServiceSpec[] = [
  customerRecord('customer-record-a', crAGrpc, crAHttp),
  customerRecord('customer-record-b', crBGrpc, crBHttp),
  routing('routing-a', routingAGrpc, routingAHttp),
  routing('routing-b', routingBGrpc, routingBHttp),
  {
    name: 'email',
    service: 'email',
    httpPort: emailHttp,
    env: {
      ...common,
      SMTP_PORT: String(smtp),
      HTTP_PORT: String(emailHttp),
      SUPPORT_DOMAINS: 'support.test',
      SMTP_URL: `smtp://127.0.0.1:${outboxSmtp}`,
      MAIL_FROM: 'Support <help@support.test>',
      SMTP_RATE_PER_IP: '100000',
      SMTP_RATE_PER_SENDER: '1000',
      // Retries pile up while Kafka is away; each is a connection from the one address of the load.
      SMTP_MAX_CLIENTS_PER_IP: '1000',
    },
  },
  {
    name: 'sms-voice',
    service: 'sms-voice',
    httpPort: sms,
    env: {
      ...common,
      ...signs('sms-voice'),
      HTTP_PORT: String(sms),
      SMS_VOICE_SPOOL_DIR: path.join(logDir, 'sms-voice-spool'),
      PUBLIC_BASE_URL: `http://127.0.0.1:${sms}`,
      TWILIO_API_BASE_URL: `http://127.0.0.1:${outboxTwilio}`,
      TWILIO_AUTH_TOKEN: secrets.twilio,
      TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
      ROUTING_GRPC_ADDR: `127.0.0.1:${routingAGrpc}`,
    },
  },
  { name: 'chat-a', service: 'chat', httpPort: chatA, env: { ...common, HTTP_PORT: String(chatA), CHAT_TOKEN_SECRET: secrets.chat, ...chatCaps } },
  { name: 'chat-b', service: 'chat', httpPort: chatB, env: { ...common, HTTP_PORT: String(chatB), CHAT_TOKEN_SECRET: secrets.chat, ...chatCaps } },
];

const infra = new Infrastructure();
const outbox = new Outbox();
await outbox.start(outboxSmtp, outboxTwilio);
const services = specs.map((s) => new ServiceProcess(s, logDir));
// Whatever ends the suite (a failed start, an error), no service process outlives it.
process.on('exit', () => services.forEach((s) => s.killNow()));
// One after another, so that they do not all compile at once on a small machine; routing's first
// instance becomes the active one, the second joins as its standby.
const startedAt = Date.now();
for (const s of services) {
  s.start();
  if (!(await waitUntil(() => (s.spec.name === 'routing-a' ? s.active() : s.alive()), 120)))
    throw new Error(`${s.spec.name} did not start within 120 s; see ${logDir}/${s.spec.name}.log`);
}
const system = { infra, services, brokerCount: Number(process.env.LOCAL_KAFKA_BROKERS ?? 1) };
if ((await waitReady(services, 120)) === undefined) throw new Error(`services not ready after 120 s; logs in ${logDir}`);
const startup = (Date.now() - startedAt) / 1000;
console.log(`[chaos] ${services.length} service instances ready in ${startup.toFixed(1)} s; logs in ${path.relative(ROOT, logDir)}`);

const agents = new Agents([`127.0.0.1:${routingAGrpc}`, `127.0.0.1:${routingBGrpc}`], readSigningKey(keys.privateKeyFile('agent-desk'), 'agent-desk'), 8);
await agents.start();
// The desk's reads beside offers, on the customer-record instance the faults keep alive.
const desk = readSigningKey(keys.privateKeyFile('agent-desk'), 'agent-desk');
const reads = new ContextReads(`127.0.0.1:${crBGrpc}`, desk, agents.accepted, { perSecond: 5, budgetMs: READ_BUDGET_MS });
reads.start();
const load = new Load(
  run,
  {
    smtpPorts: [smtp],
    smsPort: sms,
    smsPublicBaseUrl: `http://127.0.0.1:${sms}`,
    twilioAuthToken: secrets.twilio,
    companyNumber: company,
    chatPorts: [chatA, chatB],
  },
  { email: 3, sms: 3, chatters: 10 },
);
load.start();
await sleep(5000);
console.log(`[chaos] agents accepted ${agents.accepted.size} conversations so far; failures: ${JSON.stringify([...agents.failures].slice(0, 3))}`);

const windows: PhaseWindow[] = [];
const chosen = faultsFor(short, system.brokerCount).filter((f) => !only || only.some((word) => f.name.includes(word)));
if (chosen.length === 0) throw new Error(`no fault matches --only=${only?.join(',')}`);
for (const fault of chosen) windows.push(await runFault(fault));

console.log('[chaos] load stopped; waiting for senders to finish their retries');
await load.stop();
await reads.stop();
const findings = await settle();
// What each instance says of itself at the end, beside its log, for whoever reads a failed run.
for (const s of services) writeFileSync(path.join(logDir, `${s.spec.name}.end.txt`), await s.report());
writeFileSync(path.join(logDir, 'groups.txt'), await describeGroups(brokers));
agents.stop();
console.log(`[chaos] agents accepted ${agents.accepted.size} conversations; failures: ${JSON.stringify([...agents.failures].slice(0, 5))}`);
await Promise.all(services.map((s) => s.stop()));
await outbox.stop();

const rows = rowsFor(windows, load, findings);
printTable(rows, load, findings);
// Reads of a conversation just accepted wait for the history projection, which runs behind under
// this load (docs/RELIABILITY.md): they are shown, and only the settled reads decide the verdict.
const readFigures = windows.flatMap((w) =>
  (['settled', 'fresh'] as const).map((kind) => ({
    fault: `${w.name} (${kind})`,
    readsMustHold: w.readsMustHold && kind === 'settled',
    ...reads.figures(w.start, w.end, kind),
  })),
);
printReads(readFigures, READ_BUDGET_MS);
writeFileSync(path.join(logDir, 'result.json'), JSON.stringify({ rows, reads: readFigures, findings, notAccepted: load.notAccepted }, null, 2));
const failed =
  rows.some((r) => r.lost > 0 || r.doubled > 0 || r.deadLetters > 0 || r.notAccepted > 0 || !(r.recoveredS! <= RECOVERY_LIMIT_S)) ||
  readFigures.some((r) => r.readsMustHold && (r.missed > 0 || r.answered === 0));
process.exit(failed ? 1 : 0);

async function runFault(fault: Fault): Promise<PhaseWindow> {
  const start = Date.now();
  console.log(`[chaos] ${new Date().toISOString()} ${fault.name}`);
  const back = await fault.inject(system);
  const recoveredS = await waitReady(services, 60, back);
  console.log(`[chaos]   ${recoveredS === undefined ? 'NOT ready within 60 s' : `every service ready ${recoveredS.toFixed(1)} s after the fault ended`}`);
  await sleep(4000);
  return { name: fault.name, start, end: Date.now(), recoveredS, readsMustHold: fault.readsMustHold ?? false };
}

/**
 * Seconds from `since` until every service instance answers ready (routing: one instance
 * active, whatever its standbys do), or undefined after `limitS`.
 */
async function waitReady(instances: ServiceProcess[], limitS: number, since = Date.now()): Promise<number | undefined> {
  // The last instance seen not ready, and why, for whoever reads a slow recovery.
  const lastNotReady = new Map<string, string>();
  const allReady = async () => {
    const states = await Promise.all(
      instances.map((s) => (s.spec.service === 'routing' ? s.active().then((ready) => ({ ready, detail: '' })) : s.readiness())),
    );
    const at = ((Date.now() - since) / 1000).toFixed(1);
    const routingActive = instances.some((s, i) => s.spec.service === 'routing' && states[i]!.ready);
    if (!routingActive) lastNotReady.set('routing', `${at} s: no instance active`);
    instances.forEach((s, i) => {
      if (s.spec.service !== 'routing' && !states[i]!.ready) lastNotReady.set(s.spec.name, `${at} s: ${states[i]!.detail}`);
    });
    return routingActive && instances.every((s, i) => s.spec.service === 'routing' || states[i]!.ready);
  };
  const ready = await waitUntil(allReady, limitS);
  if (lastNotReady.size) console.log(`[chaos]   last not ready: ${[...lastNotReady].map(([name, why]) => `${name} at ${why}`).join('; ')}`);
  return ready ? (Date.now() - since) / 1000 : undefined;
}

async function waitUntil(probe: () => Promise<boolean>, limitS: number): Promise<boolean> {
  const deadline = Date.now() + limitS * 1000;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await sleep(250);
  }
  return false;
}

/** Reads the verdict again until every accepted contact has arrived everywhere, or 60 s passed. */
async function settle(): Promise<Findings> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const findings = await gatherFindings({ brokers, mongoUri, database: 'contactcenter', accepted: load.accepted, outbox });
    const pending = findings.missingContacts.length + findings.missingHistory.length + findings.neverQueued.length;
    if (pending === 0 || Date.now() > deadline) return findings;
    await sleep(2000);
  }
}
