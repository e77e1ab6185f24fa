// Wiring: configuration → Kafka (changelog, transactions), customer-record → the routing core →
// gRPC and ops HTTP. Routing keeps no state in the store: Kafka is its system of record.
import type { ISocketFactory } from 'kafkajs';
import { createTokenVerifier } from '#libs/auth';
import { connectKafka, serveOps, startGrpcServer, type ServiceContext } from '#libs/service';
import type { RoutingOwnership } from './active';
import { checkRoutingConfig, routingPolicy, type RoutingConfig } from './config';
import type { Clock, RoutingEngine } from './core/engine';
import type { RoutingPolicy } from './core/policy';
import { configuredCustomerLookup, type CustomerLookup } from './customers';
import { RoutingErasures } from './erasures';
import { registerRoutingGrpc } from './grpc';
import { startContactIntake } from './kafka-routes';
import { startQueueMetrics } from './queue-metrics';
import { startRoutingState } from './routing-state';
import type { EngineRunner } from './runner';
import { startTicker } from './ticker';

export interface RoutingOverrides {
  clock?: Clock;
  policy?: Partial<RoutingPolicy>;
  customerLookup?: CustomerLookup;
  /** Fault-injection tests cut this instance's Kafka network with it. */
  socketFactory?: ISocketFactory;
}

export interface RunningRouting {
  grpcPort: number;
  httpPort: number;
  ownership: RoutingOwnership;
  /** The active state; throws NotActiveError on a standby. */
  readonly engine: RoutingEngine;
  readonly runner: EngineRunner;
}

export async function startRouting(ctx: ServiceContext, config: RoutingConfig, overrides: RoutingOverrides = {}): Promise<RunningRouting> {
  checkRoutingConfig(config);
  const policy = routingPolicy(config, overrides.policy);
  const verify = createTokenVerifier({ keys: config.AUTH_PUBLIC_KEYS_DIR, audience: 'routing' });
  const clock = overrides.clock ?? { now: () => Date.now() };
  const kafka = await connectKafka(ctx, config, { socketFactory: overrides.socketFactory });
  const erasures = config.ERASURE_KEY ? new RoutingErasures(config.ERASURE_KEY, config.DEFAULT_PHONE_COUNTRY) : undefined;
  const ownership = await startRoutingState(ctx, kafka, config, { policy, clock, erased: erasures?.known });
  // Every erasure is known before this instance can take routing over.
  if (erasures) await erasures.start(ctx, kafka, () => ownership);
  else ctx.logger.warn('ERASURE_KEY is not set: erased customers are not dropped from routing’s state');
  const lookup = overrides.customerLookup ?? configuredCustomerLookup(ctx, config);
  const grpc = await startGrpcServer(
    ctx,
    { host: config.BIND_HOST, port: config.GRPC_PORT },
    ['contactcenter.v1.RoutingService'],
    (server) => registerRoutingGrpc(server, { current: () => ownership.current(), verify, logger: ctx.logger }),
    { reflection: config.GRPC_REFLECTION },
  );
  await startContactIntake(ctx, kafka, config, { ownership, lookup });
  await ownership.settled();
  startTicker(ctx, ownership, config.ROUTING_TICK_MS);
  // /readyz: can take over (standbys too, so rollouts proceed); /activez: routes now.
  const httpPort = await serveOps(ctx, config.HTTP_PORT, config.BIND_HOST, { probes: { '/activez': () => ownership.activity() } });
  startQueueMetrics(ctx, ownership, policy.serviceLevelTarget);
  ctx.logger.info({ active: ownership.isActive }, ownership.isActive ? 'routing is the active instance' : 'routing is a standby');
  return {
    grpcPort: grpc.port,
    httpPort,
    ownership,
    get engine() {
      return ownership.current().engine;
    },
    get runner() {
      return ownership.current().runner;
    },
  };
}
