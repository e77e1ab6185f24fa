// How many SMTP connections one client address holds open at once. The total is smtp-server's
// own maxClients; this is the share of one address, so one sender cannot take every slot.

export class OpenConnections {
  private readonly byAddress = new Map<string, number>();
  /** Sessions counted, so a connection refused before it was counted is never subtracted. */
  private readonly counted = new Map<string, string>();

  constructor(private readonly perAddress: number) {}

  /** Counts the connection in, or false when its address already holds `perAddress`. */
  admit(sessionId: string, address: string): boolean {
    const open = this.byAddress.get(address) ?? 0;
    if (open >= this.perAddress) return false;
    this.byAddress.set(address, open + 1);
    this.counted.set(sessionId, address);
    return true;
  }

  release(sessionId: string): void {
    const address = this.counted.get(sessionId);
    if (address === undefined) return;
    this.counted.delete(sessionId);
    const open = (this.byAddress.get(address) ?? 1) - 1;
    if (open > 0) this.byAddress.set(address, open);
    else this.byAddress.delete(address);
  }

  openFrom(address: string): number {
    return this.byAddress.get(address) ?? 0;
  }
}
