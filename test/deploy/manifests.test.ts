// deploy/k8s and deploy/compose.yaml, checked offline against the services themselves: images
// name real service folders, environment variables exist in that service's config schema,
// probes name paths the service serves on the port its config gives, addresses name a Service
// and port that exist, and routing can finish a rollout.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { SERVICE_CONFIGS, defaultOf } from '../../scripts/config-table';
import { ROOT } from './metrics';

type Obj = Record<string, any>;

const K8S_DIR = join(ROOT, 'deploy/k8s');
const manifests: Obj[] = readdirSync(K8S_DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .flatMap((f) =>
    parseAllDocuments(readFileSync(join(K8S_DIR, f), 'utf8')).map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${f}: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS() as Obj;
    }),
  )
  .filter(Boolean);
const workloads = manifests.filter((m) => m.kind === 'Deployment' || m.kind === 'StatefulSet');
const services = manifests.filter((m) => m.kind === 'Service');
const compose = parse(readFileSync(join(ROOT, 'deploy/compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, Obj>;
  secrets?: Obj;
  volumes?: Obj;
};

/** Read by the image (deploy/Dockerfile), not by the service's schema. */
const IMAGE_ENV = new Set(['SERVICE', 'NODE_ENV']);

/** The port a service's config gives a variable, with the manifest's own value of it first. */
function configuredPort(service: string, variable: string, env: Record<string, string>): number | undefined {
  if (env[variable]) return Number(env[variable]);
  const schema = SERVICE_CONFIGS[service]?.[variable];
  if (!schema) return undefined;
  const d = defaultOf(schema);
  return d.kind === 'default' ? Number(d.value) : undefined;
}

/** A path the service serves: one written as a string in its code or the shared ops handler. */
function servesPath(service: string, path: string): boolean {
  const files = [
    join(ROOT, 'libs/observability/http.ts'),
    ...readdirSync(join(ROOT, `services/${service}/src`), { recursive: true }).map((f) => join(ROOT, `services/${service}/src`, String(f))),
  ];
  return files.some((f) => f.endsWith('.ts') && readFileSync(f, 'utf8').includes(`'${path}'`));
}

function plainEnv(container: Obj): Record<string, string> {
  return Object.fromEntries((container.env ?? []).filter((e: Obj) => typeof e.value === 'string').map((e: Obj) => [e.name, e.value]));
}

function serviceOf(container: Obj): string {
  return plainEnv(container).SERVICE ?? '';
}

describe('Kubernetes manifests', () => {
  it('parse, and every workload runs a real service', () => {
    expect(workloads.length).toBe(Object.keys(SERVICE_CONFIGS).length);
    for (const w of workloads) {
      for (const [k, v] of Object.entries(w.spec.selector.matchLabels as Obj)) expect(w.spec.template.metadata.labels[k], w.metadata.name).toBe(v);
      for (const c of w.spec.template.spec.containers as Obj[]) {
        const service = serviceOf(c);
        expect(existsSync(join(ROOT, `services/${service}/src/main.ts`)), `${w.metadata.name}: SERVICE=${service}`).toBe(true);
        expect(service).toBe(w.metadata.name);
        expect(c.image, w.metadata.name).toMatch(/^contactcenter(:|$)/);
      }
    }
    expect(new Set(workloads.map((w) => w.metadata.name))).toEqual(new Set(Object.keys(SERVICE_CONFIGS)));
  });

  it('set only variables the service reads', () => {
    for (const w of workloads)
      for (const c of w.spec.template.spec.containers as Obj[]) {
        const shape = SERVICE_CONFIGS[serviceOf(c)]!;
        for (const e of c.env as Obj[]) expect(IMAGE_ENV.has(e.name) || e.name in shape, `${w.metadata.name}: ${e.name}`).toBe(true);
      }
  });

  it('give every container resources and probes on paths and ports the service serves', () => {
    for (const w of workloads) {
      const name = w.metadata.name as string;
      for (const c of w.spec.template.spec.containers as Obj[]) {
        expect(c.resources?.requests?.cpu, name).toBeTruthy();
        expect(c.resources?.requests?.memory, name).toBeTruthy();
        expect(c.resources?.limits?.memory, name).toBeTruthy();
        const env = plainEnv(c);
        const httpPort = configuredPort(name, 'HTTP_PORT', env);
        const containerPorts = (c.ports as Obj[]).map((p) => p.containerPort as number);
        expect(containerPorts, name).toContain(httpPort);
        for (const variable of ['GRPC_PORT', 'SMTP_PORT']) {
          const p = configuredPort(name, variable, env);
          if (p !== undefined) expect(containerPorts, `${name} ${variable}`).toContain(p);
        }
        for (const probe of ['readinessProbe', 'livenessProbe']) {
          const get = c[probe]?.httpGet as Obj | undefined;
          expect(get, `${name} ${probe}`).toBeDefined();
          expect(get!.port, `${name} ${probe}`).toBe(httpPort);
          expect(servesPath(name, get!.path as string), `${name} ${probe} ${get!.path}`).toBe(true);
        }
        expect(c.livenessProbe.httpGet.path, name).toBe('/healthz');
        expect(Number(w.spec.template.metadata.annotations?.['prometheus.io/port']), name).toBe(httpPort);
      }
    }
  });

  it('have Services that select a workload and target its ports, and addresses that name them', () => {
    const portsOf = (svc: Obj) => (svc.spec.ports as Obj[]).map((p) => p.port as number);
    for (const svc of services) {
      const target = workloads.find((w) => Object.entries(svc.spec.selector as Obj).every(([k, v]) => w.spec.template.metadata.labels[k] === v));
      expect(target, svc.metadata.name).toBeDefined();
      const containerPorts = (target!.spec.template.spec.containers as Obj[]).flatMap((c) => (c.ports as Obj[]).map((p) => p.containerPort));
      for (const p of svc.spec.ports as Obj[]) expect(containerPorts, `${svc.metadata.name} ${p.name}`).toContain(p.targetPort ?? p.port);
    }
    for (const w of workloads)
      for (const c of w.spec.template.spec.containers as Obj[])
        for (const [k, v] of Object.entries(plainEnv(c)).filter(([k]) => k.endsWith('_ADDR'))) {
          const [host, port] = v.split(':');
          const svc = services.find((s) => s.metadata.name === host);
          expect(svc, `${w.metadata.name} ${k}=${v}`).toBeDefined();
          expect(portsOf(svc!), `${w.metadata.name} ${k}=${v}`).toContain(Number(port));
        }
    // The desk and the console cannot work without routing's address.
    for (const name of ['agent-desk', 'ops-console'])
      expect(plainEnv(workloads.find((w) => w.metadata.name === name)!.spec.template.spec.containers[0]).ROUTING_GRPC_ADDR, name).toBe('routing:50052');
  });

  it('let every rollout finish', () => {
    for (const w of workloads.filter((w) => w.kind === 'Deployment')) {
      const strategy = w.spec.strategy ?? { type: 'RollingUpdate' };
      if (strategy.type === 'Recreate') continue;
      const { maxSurge = '25%', maxUnavailable = '25%' } = strategy.rollingUpdate ?? {};
      // Nothing may be removed and nothing added: the rollout could not move.
      expect(maxSurge !== 0 || maxUnavailable !== 0, w.metadata.name).toBe(true);
    }
  });

  it('keep routing rolling out with a warm standby, agents reaching the active instance', () => {
    const routing = workloads.find((w) => w.metadata.name === 'routing')!;
    const c = routing.spec.template.spec.containers[0] as Obj;
    // Readiness is "can take over": a standby is ready, so removing an old pod is never blocked by design.
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(servesPath('routing', '/activez')).toBe(true);
    expect(routing.spec.replicas).toBeGreaterThanOrEqual(2);
    // A new pod becomes ready (warm) before an old one goes, so a standby exists at every step.
    expect(routing.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    // Headless: callers connect to every ready pod and retry a standby's UNAVAILABLE (routingChannel).
    expect(services.find((s) => s.metadata.name === 'routing')!.spec.clusterIP).toBe('None');
    const pdb = manifests.find((m) => m.kind === 'PodDisruptionBudget' && m.metadata.name === 'routing');
    expect(pdb?.spec.maxUnavailable).toBe(1);
  });
});

describe('compose file', () => {
  const ours = Object.entries(compose.services).filter(([, s]) => s.environment?.SERVICE);

  it('runs every service, each a real service folder', () => {
    expect(new Set(ours.map(([, s]) => s.environment.SERVICE as string))).toEqual(new Set(Object.keys(SERVICE_CONFIGS)));
    for (const [name, s] of ours) {
      expect(s.environment.SERVICE, name).toBe(name);
      expect(existsSync(join(ROOT, `services/${name}/src/main.ts`)), name).toBe(true);
    }
  });

  it('sets only variables the service reads, and addresses of services that exist', () => {
    for (const [name, s] of ours) {
      const shape = SERVICE_CONFIGS[name]!;
      for (const [k, v] of Object.entries(s.environment as Record<string, string>)) {
        expect(IMAGE_ENV.has(k) || k in shape, `${name}: ${k}`).toBe(true);
        if (k.endsWith('_GRPC_ADDR')) {
          const [host, port] = String(v).split(':');
          expect(compose.services[host!], `${name} ${k}`).toBeDefined();
          expect(Number(port), `${name} ${k}`).toBe(configuredPort(host!, 'GRPC_PORT', compose.services[host!]!.environment));
        }
      }
      for (const d of Object.keys(s.depends_on ?? {})) expect(compose.services[d], `${name} depends on ${d}`).toBeDefined();
      for (const secret of (s.secrets ?? []) as Obj[]) expect(compose.secrets?.[secret.source], `${name} secret ${secret.source}`).toBeDefined();
    }
  });

  it('publishes ports the service listens on', () => {
    for (const [name, s] of ours)
      for (const mapping of (s.ports ?? []) as string[]) {
        const inside = Number(mapping.split(':').at(-1));
        const listens = ['HTTP_PORT', 'SMTP_PORT', 'GRPC_PORT'].map((v) => configuredPort(name, v, s.environment));
        expect(listens, `${name} ${mapping}`).toContain(inside);
      }
  });
});
