// Agents at the desk during the fault suite, over routing's real gRPC API: each accepts every
// offer, replies once on the conversation's channel and resolves it. They follow take-overs as
// the desk does: a standby answers UNAVAILABLE, so every call tries each routing instance.
import { credentials, type ClientReadableStream, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { bearerMetadata, tokenSource, type SigningKey } from '#libs/auth';
import { Channel, Presence, RoutingServiceClient, Tier, type WatchAssignmentsResponse } from '#libs/proto';
import { sleep } from './system';

const CHANNELS = [Channel.CHANNEL_EMAIL, Channel.CHANNEL_SMS, Channel.CHANNEL_CHAT, Channel.CHANNEL_VOICE];

export class Agents {
  private readonly clients: RoutingServiceClient[];
  private running = false;
  private readonly streams = new Set<ClientReadableStream<WatchAssignmentsResponse>>();
  /** Conversations whose accept this suite's agents saw acknowledged, and by which agent. */
  readonly accepted = new Map<string, string>();
  readonly handled = new Set<string>();
  /** Why offers could not be handled, by gRPC status, for whoever reads a run with few reads. */
  readonly failures = new Map<string, number>();

  constructor(
    routingAddresses: string[],
    /** The desk's key: the agents' tokens are the ones the desk would mint for them. */
    private readonly desk: SigningKey,
    private readonly count: number,
  ) {
    this.clients = routingAddresses.map((a) => new RoutingServiceClient(a, credentials.createInsecure()));
  }

  async start(): Promise<void> {
    this.running = true;
    for (let a = 0; a < this.count; a++) void this.work(`chaos-agent-${a}`);
  }

  stop(): void {
    this.running = false;
    for (const s of this.streams) s.cancel();
    for (const c of this.clients) c.close();
  }

  /** One agent: registers, goes available and watches its offers, on whichever instance is active. */
  private async work(agentId: string): Promise<void> {
    // Tokens live minutes; a fault suite runs longer, so each call takes a current one.
    const supervisorToken = tokenSource(this.desk, { id: 'chaos-supervisor', role: 'supervisor' }, 'routing');
    const agentToken = tokenSource(this.desk, { id: agentId, role: 'agent' }, 'routing');
    while (this.running) {
      for (const client of this.clients) {
        if (!this.running) return;
        try {
          const supervisor = bearerMetadata(await supervisorToken());
          const md = bearerMetadata(await agentToken());
          await unary(
            client,
            'registerAgent',
            {
              agentId,
              name: agentId,
              tier: Tier.TIER_FRONT_OFFICE,
              skills: [{ name: 'general', level: 3 }],
              languages: ['en'],
              capacity: CHANNELS.map((channel) => ({ channel, capacity: 100, active: 0 })),
              totalCapacity: 100,
            },
            supervisor,
          );
          await this.watch(client, agentId, md, agentToken);
        } catch (err) {
          // A standby, a restarting instance or a dropped stream: try the next instance.
          this.failed('watch', err);
        }
      }
      await sleep(500);
    }
  }

  private watch(client: RoutingServiceClient, agentId: string, md: Metadata, token: () => Promise<string>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const stream = client.watchAssignments({}, md);
      this.streams.add(stream);
      const end = (err?: Error) => {
        this.streams.delete(stream);
        if (err) reject(err);
        else resolve();
      };
      stream.on('data', (u: WatchAssignmentsResponse) => {
        if (u.update?.$case === 'offer') void this.handle(client, agentId, u.update.offer, token);
      });
      stream.on('error', (err: Error) => end(err));
      stream.on('end', () => end());
      unary(client, 'setPresence', { agentId, presence: Presence.PRESENCE_AVAILABLE }, md).catch((err: Error) => {
        stream.cancel();
        end(err);
      });
    });
  }

  /**
   * Chats stay open (the visitor keeps writing, and a resolved chat would be queued anew); a
   * mail or an SMS is one contact, answered and resolved.
   */
  private async handle(
    client: RoutingServiceClient,
    agentId: string,
    offer: { conversationId: string; channel: Channel },
    token: () => Promise<string>,
  ): Promise<void> {
    const { conversationId, channel } = offer;
    try {
      const md = bearerMetadata(await token());
      await unary(client, 'acceptOffer', { conversationId }, md);
      this.accepted.set(conversationId, agentId);
      await unary(client, 'reply', { conversationId, text: `Thanks, we are on it (${conversationId.slice(-6)})`, subject: '', attachments: [] }, md);
      if (channel !== Channel.CHANNEL_CHAT) await unary(client, 'resolve', { conversationId, disposition: 'answered' }, md);
      this.handled.add(conversationId);
    } catch (err) {
      // The offer moved on (take-over, timeout): routing offers the conversation again.
      this.failed('offer', err);
    }
  }

  private failed(what: string, err: unknown): void {
    const why = `${what}: ${(err as Error).message}`.slice(0, 120);
    this.failures.set(why, (this.failures.get(why) ?? 0) + 1);
  }
}

type Method = 'registerAgent' | 'setPresence' | 'acceptOffer' | 'reply' | 'resolve';

function unary(client: RoutingServiceClient, method: Method, request: object, md: Metadata): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const call = client[method] as unknown as (req: object, md: Metadata, options: { deadline: Date }, cb: (err: ServiceError | null) => void) => unknown;
    call.call(client, request, md, { deadline: new Date(Date.now() + 5000) }, (err) => (err ? reject(err) : resolve()));
  });
}
