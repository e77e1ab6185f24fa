// A wait in words, as customers read or hear it: "1 minute", "90 minutes", "4 hours", or, for
// an estimate told to a caller, "about 3 minutes".

export type WaitWording =
  | {
      /** "less than a minute", "about 3 minutes", "about an hour", then in half hours: an estimate, not a promise. */
      approximate: true;
    }
  | {
      approximate?: false;
      /** Round up, not to the nearest: "try again in" must not send anyone back too early. */
      roundUp?: boolean;
      /** 'second' says a wait below two minutes in seconds; by default a shorter wait is "1 minute". */
      smallest?: 'second' | 'minute';
      /** The largest unit said; default 'day'. With 'minute', a day is "1440 minutes". */
      largest?: 'minute' | 'hour' | 'day';
    };

type Unit = 'second' | 'minute' | 'hour' | 'day';
const UNITS: readonly { unit: Unit; ms: number }[] = [
  { unit: 'second', ms: 1000 },
  { unit: 'minute', ms: 60_000 },
  { unit: 'hour', ms: 3_600_000 },
  { unit: 'day', ms: 86_400_000 },
];

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

function approximately(ms: number): string {
  if (ms < 60_000) return 'less than a minute';
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `about ${plural(minutes, 'minute')}`;
  const hours = Math.round(minutes / 30) / 2;
  return hours === 1 ? 'about an hour' : `about ${hours} hours`;
}

/** Never less than one of the smallest unit; a unit is said from two of it on ("90 minutes", then "2 hours"). */
export function waitInWords(ms: number, wording: WaitWording = {}): string {
  if (wording.approximate) return approximately(ms);
  const round = wording.roundUp ? Math.ceil : Math.round;
  let at = UNITS.findIndex((u) => u.unit === (wording.smallest ?? 'minute'));
  const last = UNITS.findIndex((u) => u.unit === (wording.largest ?? 'day'));
  let count = Math.max(1, round(ms / UNITS[at]!.ms));
  while (at < last) {
    const perNext = UNITS[at + 1]!.ms / UNITS[at]!.ms;
    if (count < 2 * perNext) break;
    count = round(count / perNext);
    at++;
  }
  return plural(count, UNITS[at]!.unit);
}
