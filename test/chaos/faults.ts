// The faults, one at a time. Each returns when the fault is over (the dependency is back, the
// process restarted), which is when the recovery clock starts.
import { type Infrastructure, type ServiceProcess, sleep } from './system';

export interface ChaosSystem {
  infra: Infrastructure;
  services: ServiceProcess[];
  brokerCount: number;
}

export interface Fault {
  name: string;
  inject(system: ChaosSystem): Promise<number>;
  /** customer-record-b stays up: the desk's reads on it must all be answered within the budget. */
  readsMustHold?: boolean;
}

const DOWN_MS = 5000;
/** How long a supervisor (npm start, Kubernetes) takes to start a crashed process again. */
const RESTART_AFTER_MS = 2000;

const brokerKill = (name: string, node: number): Fault => ({
  name,
  async inject({ infra }) {
    infra.killBroker(node);
    await sleep(DOWN_MS);
    infra.startBroker(node);
    return Date.now();
  },
});

const storeKill: Fault = {
  name: 'store (FerretDB) kill -9',
  async inject({ infra }) {
    infra.killStore();
    await sleep(DOWN_MS);
    infra.up();
    return Date.now();
  },
};

/** The routing instance that is active, else the first. */
function activeRouting(services: ServiceProcess[]): Promise<ServiceProcess> {
  const routing = services.filter((s) => s.spec.service === 'routing');
  return Promise.all(routing.map((s) => s.active())).then((ready) => routing[ready.indexOf(true)] ?? routing[0]!);
}

const serviceKill = (name: string, pick: (services: ServiceProcess[]) => Promise<ServiceProcess>): Fault => ({
  name,
  async inject({ services }) {
    const victim = await pick(services);
    await victim.kill();
    const killedAt = Date.now();
    await sleep(RESTART_AFTER_MS);
    victim.start();
    // A routing take-over does not wait for the restart: the clock starts at the kill.
    return victim.spec.service === 'routing' ? killedAt : Date.now();
  },
});

const named = (instance: string) => async (services: ServiceProcess[]) => services.find((s) => s.spec.name === instance)!;

/** The closest to a cut network without namespaces: the process stops answering anyone. */
const routingFrozen: Fault = {
  name: 'active routing frozen 20 s (SIGSTOP, as a cut network)',
  async inject({ services }) {
    const victim = await activeRouting(services);
    victim.freeze();
    const frozenAt = Date.now();
    await sleep(20_000);
    victim.thaw();
    return frozenAt;
  },
};

export function faultsFor(short: boolean, brokerCount: number): Fault[] {
  const broker = brokerCount > 1 ? brokerKill('Kafka node 2 of 3 kill -9', 2) : brokerKill('Kafka broker kill -9', 1);
  const core = [broker, storeKill, serviceKill('active routing kill -9', activeRouting)];
  if (short) return core;
  return [
    ...core,
    // The reads' figures without a fault, to compare the kill's with.
    { name: 'customer-record: no fault, 20 s of load', inject: () => sleep(20_000).then(() => Date.now()), readsMustHold: true },
    { ...serviceKill('customer-record (one of two) kill -9', named('customer-record-a')), readsMustHold: true },
    serviceKill('email kill -9', named('email')),
    serviceKill('sms-voice kill -9', named('sms-voice')),
    serviceKill('chat (one of two) kill -9', named('chat-a')),
    routingFrozen,
  ];
}
