// Which routing instance is active, decided without I/O: one member of the routing consumer
// group owns every partition of the inbound contacts (and with them the whole routing state),
// and it keeps that ownership across rebalances so a standby joining never moves the work.
// The lease tells the owner how long it may still write after its last contact with the
// group coordinator: it stops well before the coordinator could give the work to another.

export interface GroupMember {
  memberId: string;
  /** The member says it is routing now (it holds the state and a valid lease). */
  active: boolean;
}

/** The member that gets every partition: the one already active, else the first by id. */
export function chooseOwner(members: GroupMember[]): string | undefined {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  return (sorted.find((m) => m.active) ?? sorted[0])?.memberId;
}

/** What a member tells the others when it (re)joins; decoding is lenient so a stranger counts as a standby. */
export function encodeMemberState(active: boolean): Buffer {
  return Buffer.from(JSON.stringify({ active }));
}

export function decodeMemberState(userData: Buffer | null | undefined): boolean {
  if (!userData || userData.length === 0) return false;
  try {
    const parsed = JSON.parse(userData.toString('utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null && (parsed as { active?: unknown }).active === true;
  } catch {
    return false;
  }
}

/**
 * The coordinator hands the partitions to another member no sooner than one session timeout
 * after the last heartbeat it received from the owner. The owner counts from when it saw the
 * heartbeat acknowledged (later than the coordinator's receipt) and so keeps only half the
 * session timeout: the other half covers the network and a store write already under way.
 */
export class Lease {
  private until = 0;

  constructor(
    private readonly clock: { now(): number },
    readonly durationMs: number,
  ) {}

  renew(): void {
    this.until = this.clock.now() + this.durationMs;
  }

  lapse(): void {
    this.until = 0;
  }

  get valid(): boolean {
    return this.clock.now() < this.until;
  }

  get remainingMs(): number {
    return Math.max(0, this.until - this.clock.now());
  }
}
