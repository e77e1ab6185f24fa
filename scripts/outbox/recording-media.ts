// A recording's media as Twilio serves it at /Recordings/RE….wav or .mp3: a second of a quiet
// tone (WAV, 8 kHz 16-bit mono, as Twilio records calls) or of silence (MP3 frames), and one byte
// range of it when the request asks for one (players ask for `bytes=0-` first).

const WAV_RATE = 8000;

function wav(seconds: number): Buffer {
  const samples = WAV_RATE * seconds;
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) data.writeInt16LE(Math.round(3000 * Math.sin((2 * Math.PI * 440 * i) / WAV_RATE)), i * 2);
  const head = Buffer.alloc(44);
  head.write('RIFF', 0, 'ascii');
  head.writeUInt32LE(36 + data.length, 4);
  head.write('WAVEfmt ', 8, 'ascii');
  head.writeUInt32LE(16, 16); // PCM format chunk
  head.writeUInt16LE(1, 20); // PCM
  head.writeUInt16LE(1, 22); // mono
  head.writeUInt32LE(WAV_RATE, 24);
  head.writeUInt32LE(WAV_RATE * 2, 28);
  head.writeUInt16LE(2, 32);
  head.writeUInt16LE(16, 34);
  head.write('data', 36, 'ascii');
  head.writeUInt32LE(data.length, 40);
  return Buffer.concat([head, data]);
}

/** MPEG-1 Layer III, 32 kbit/s, 44.1 kHz, mono: a 104-byte frame whose zeroed side info decodes to silence. */
function mp3(frames: number): Buffer {
  const frame = Buffer.alloc(104);
  frame.set([0xff, 0xfb, 0x10, 0xc0]);
  return Buffer.concat(Array.from({ length: frames }, () => frame));
}

export const RECORDING_MEDIA = {
  wav: { type: 'audio/x-wav', bytes: wav(1) },
  mp3: { type: 'audio/mpeg', bytes: mp3(77) },
} as const;

export type MediaFormat = keyof typeof RECORDING_MEDIA;

/** The part of `size` bytes a Range header asks for; undefined for the whole; null when it cannot be served. */
export function byteRange(header: string | undefined, size: number): { start: number; end: number } | undefined | null {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (!m[1] && !m[2])) return undefined; // several ranges or another unit: the whole, as servers may
  if (!m[1]) {
    const suffix = Number(m[2]);
    return suffix > 0 ? { start: Math.max(0, size - suffix), end: size - 1 } : null;
  }
  const start = Number(m[1]);
  const end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
  return start < size && start <= end ? { start, end } : null;
}
