// How many SMS segments a text takes, as carriers count them: the SMS channel reports it, the
// desk holds its SMS reply templates to a number of segments.

// GSM 03.38 default alphabet and its extension table (each extension character costs two).
const GSM7 = new Set('@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà');
const GSM7_EXTENDED = new Set('^{}\\[~]|€\f');

export interface Segments {
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
}

/** How many SMS segments a body takes: GSM-7 160 or 153 septets a segment, otherwise UCS-2 70 or 67 code units. */
export function countSegments(body: string): Segments {
  const chars = [...body];
  if (chars.every((c) => GSM7.has(c) || GSM7_EXTENDED.has(c))) {
    const septets = chars.reduce((n, c) => n + (GSM7_EXTENDED.has(c) ? 2 : 1), 0);
    return { encoding: 'GSM-7', segments: septets <= 160 ? 1 : Math.ceil(septets / 153) };
  }
  // UCS-2 counts UTF-16 code units: characters outside the BMP take two.
  const units = body.length;
  return { encoding: 'UCS-2', segments: units <= 70 ? 1 : Math.ceil(units / 67) };
}
