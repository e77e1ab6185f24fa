// Files people exchange with the contact centre: what a file's bytes say it is, the types a
// customer may upload, and the headers that make a browser save a file rather than open it.
// A claimed type is never trusted: a "PNG" that is not a PNG is served as bytes.

/** The types recognised by their first bytes. */
const SIGNATURES: { type: string; test: (b: Buffer) => boolean }[] = [
  { type: 'image/png', test: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { type: 'image/jpeg', test: (b) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { type: 'image/gif', test: (b) => ['GIF87a', 'GIF89a'].includes(b.subarray(0, 6).toString('latin1')) },
  { type: 'image/webp', test: (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP' },
  { type: 'application/pdf', test: (b) => b.subarray(0, 5).toString('latin1') === '%PDF-' },
];

/** Plain text: valid UTF-8 with no control characters but tab, line feed, carriage return and form feed. */
function isPlainText(b: Buffer): boolean {
  if (!b.length) return false;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    // Not UTF-8, so not plain text: the decoder's error says nothing more.
    return false;
  }
  return !/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text);
}

/** What the bytes are, by their signature (or plain text); undefined when nothing matches. */
export function sniffContentType(bytes: Buffer): string | undefined {
  return SIGNATURES.find((s) => s.test(bytes))?.type ?? (isPlainText(bytes) ? 'text/plain' : undefined);
}

function baseType(claimed: string): string {
  return (claimed.split(';')[0] ?? '').trim().toLowerCase();
}

/** The type a file is served with: the claimed one when the bytes bear it out, otherwise bytes. */
export function servedContentType(claimed: string, bytes: Buffer): string {
  const base = baseType(claimed);
  const sniffed = sniffContentType(bytes);
  if (!sniffed || sniffed !== base) return 'application/octet-stream';
  return sniffed === 'text/plain' ? 'text/plain; charset=utf-8' : sniffed;
}

/** What a customer may upload in the chat: images, PDFs and plain text, judged by the bytes. */
const UPLOAD_TYPES: readonly string[] = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain'];

/**
 * The upload's type when its bytes are one of `allowed` and agree with what the sender claimed
 * (a claim of application/octet-stream or nothing defers to the bytes); undefined otherwise.
 */
export function acceptedUploadType(claimed: string, bytes: Buffer, allowed: readonly string[] = UPLOAD_TYPES): string | undefined {
  const sniffed = sniffContentType(bytes);
  if (!sniffed || !allowed.includes(sniffed)) return undefined;
  const base = baseType(claimed);
  return !base || base === 'application/octet-stream' || base === sniffed ? sniffed : undefined;
}

/** A file name as it may be stored and shown: no path, no control characters, at most 255 characters. */
export function safeFileName(name: string, fallback = 'attachment'): string {
  const last = name.split(/[\\/]/).pop() ?? '';
  const clean = last
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
    .slice(0, 255);
  return clean && clean !== '.' && clean !== '..' ? clean : fallback;
}

/** `Content-Disposition: attachment` with an ASCII fallback and the UTF-8 name (RFC 6266, RFC 5987). */
export function attachmentDisposition(name: string): string {
  const safe = safeFileName(name);
  const ascii = safe.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(safe).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Headers for a file sent to a browser: saved, never rendered, never sniffed into something else. */
export function downloadHeaders(name: string, contentType: string, size: number): Record<string, string> {
  return {
    'content-type': contentType,
    'content-length': String(size),
    'content-disposition': attachmentDisposition(name),
    'x-content-type-options': 'nosniff',
    'content-security-policy': 'sandbox',
    'cache-control': 'private, no-store',
    'referrer-policy': 'no-referrer',
  };
}
