// Erlang C: the probability that a contact waits, the service level, and the
// number of servers needed to reach a target service level. Pure arithmetic.

/** Probability that an arrival waits, with `servers` servers and `traffic` Erlangs offered. */
export function erlangC(servers: number, traffic: number): number {
  if (servers <= 0) return 1;
  if (traffic <= 0) return 0;
  if (traffic >= servers) return 1;
  // Erlang B by recurrence (numerically stable), then C from B.
  let b = 1;
  for (let k = 1; k <= servers; k++) b = (traffic * b) / (k + traffic * b);
  return b / (1 - (traffic / servers) * (1 - b));
}

/** Share of contacts answered within `targetMs`. */
export function serviceLevel(servers: number, arrivalsPerMs: number, handleMs: number, targetMs: number): number {
  const traffic = arrivalsPerMs * handleMs;
  if (traffic <= 0) return 1;
  if (servers <= traffic) return 0;
  return 1 - erlangC(servers, traffic) * Math.exp((-(servers - traffic) * targetMs) / handleMs);
}

/** Fewest servers reaching `targetLevel` of contacts answered within `targetMs`. */
export function serversNeeded(arrivalsPerMs: number, handleMs: number, targetMs: number, targetLevel: number, max = 100_000): number {
  const traffic = arrivalsPerMs * handleMs;
  if (traffic <= 0) return 0;
  for (let n = Math.max(1, Math.floor(traffic)); n <= max; n++) if (serviceLevel(n, arrivalsPerMs, handleMs, targetMs) >= targetLevel) return n;
  return max;
}
