// The fault suite's table: each accepted contact, extra delivery and dead letter is counted in
// the phase during which it happened.
import type { Load } from './load';
import type { ReadFigures } from './reads';
import type { Findings } from './verdict';

export interface PhaseWindow {
  name: string;
  start: number;
  end: number;
  recoveredS: number | undefined;
  /** The fault leaves customer-record-b up: every desk read on it must be answered in time. */
  readsMustHold: boolean;
}

export interface Row {
  fault: string;
  accepted: number;
  lost: number;
  doubled: number;
  deadLetters: number;
  notAccepted: number;
  recoveredS: number | undefined;
}

export function rowsFor(windows: PhaseWindow[], load: Load, findings: Findings): Row[] {
  const lostMarkers = new Set([...findings.missingContacts, ...findings.missingHistory]);
  const doubledMarkers = new Set(findings.doubledContacts);
  const phaseOf = (at: number) => {
    const i = windows.findIndex((w, k) => at < w.end || k === windows.length - 1);
    return i < 0 ? windows.length - 1 : i;
  };
  const rows: Row[] = windows.map((w) => ({ fault: w.name, accepted: 0, lost: 0, doubled: 0, deadLetters: 0, notAccepted: 0, recoveredS: w.recoveredS }));
  for (const a of load.accepted) {
    const row = rows[phaseOf(a.at)]!;
    row.accepted++;
    if (lostMarkers.has(a.marker)) row.lost++;
    if (doubledMarkers.has(a.marker)) row.doubled++;
  }
  for (const d of findings.deliveredTwice) rows[phaseOf(d.at)]!.doubled++;
  for (const d of findings.deadLetters) rows[phaseOf(d.at)]!.deadLetters++;
  // Queued or assigned twice, and never queued, are per conversation: counted in the last row
  // they could have happened by, the end of the run.
  const last = rows[rows.length - 1]!;
  last.doubled += findings.queuedTwice.length + findings.assignedTwice.length;
  last.lost += findings.neverQueued.length;
  last.notAccepted += load.notAccepted.length;
  return rows;
}

export function printTable(rows: Row[], load: Load, f: Findings): void {
  const header = ['fault', 'accepted', 'lost', 'doubled', 'dead letters', 'not accepted', 'ready again (s)'];
  const cells = rows.map((r) =>
    [r.fault, r.accepted, r.lost, r.doubled, r.deadLetters, r.notAccepted, r.recoveredS === undefined ? 'no' : r.recoveredS.toFixed(1)].map(String),
  );
  const width = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => (i === 0 ? x.padEnd(width[i]!) : x.padStart(width[i]!))).join(' | ')} |`;
  console.log(`\n${line(header)}\n| ${width.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |\n${cells.map(line).join('\n')}`);
  const byChannel = ['email', 'sms', 'chat'].map((c) => `${c} ${load.accepted.filter((a) => a.channel === c).length}`).join(', ');
  console.log(`\naccepted by channel: ${byChannel}`);
  const details: [string, unknown[]][] = [
    ['not on cc.contact.inbound.v1', f.missingContacts],
    ['more than one contact', f.doubledContacts],
    ['missing from the history', f.missingHistory],
    ['conversations never queued', f.neverQueued],
    ['conversations queued twice', f.queuedTwice],
    ['conversations assigned twice', f.assignedTwice],
    ['outbound delivered twice', f.deliveredTwice.map((d) => d.id)],
    ['dead letters', f.deadLetters.map((d) => `${d.group} ${d.topic} ${d.reason}: ${d.detail.slice(0, 120)}`)],
    ['not accepted by the channel within 90 s', load.notAccepted.map((n) => `${n.marker}: ${n.lastError}`)],
  ];
  for (const [what, list] of details) if (list.length) console.log(`${what} (${list.length}): ${list.slice(0, 5).join('; ')}${list.length > 5 ? ' …' : ''}`);
}

/** The desk's reads on customer-record-b, by fault; the rows marked * must all be answered. */
export function printReads(rows: (ReadFigures & { fault: string; readsMustHold: boolean })[], budgetMs: number): void {
  console.log(`\nreads of a customer context on customer-record-b (an agent's own conversation, ${budgetMs} ms budget):`);
  for (const r of rows) {
    const misses = Object.entries(r.misses)
      .map(([outcome, n]) => `${n} ${outcome}`)
      .join(', ');
    console.log(
      `  ${r.readsMustHold ? '*' : ' '} ${r.fault}: ${r.answered} answered, ${r.missed} missed${misses ? ` (${misses})` : ''}; p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms`,
    );
  }
}
