// Which routing instance is active, decided without I/O: one member of the routing consumer
// group owns every partition of the inbound contacts (and with them the whole routing state),
// and it keeps that ownership across rebalances so a standby joining never moves the work.
// Who may write is not decided here but by the transactional id (see decision-log.ts).

export interface GroupMember {
  memberId: string;
  /** The member says it is routing now (it holds the state). */
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
