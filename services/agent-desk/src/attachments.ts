// Opening a file a customer sent: customer-record decides (and audits) whether this person may
// open this file of this conversation, then the bytes come from the channel service that keeps
// them, asked with the person's own token. The browser is made to save the file, never to show
// it: Content-Disposition attachment, nosniff, a sandboxing CSP, and the claimed type only when
// the bytes bear it out.
import type http from 'node:http';
import { tokenSource, type SigningKey } from '#libs/auth';
import { BadRequestError, downloadHeaders, HttpError, servedContentType } from '#libs/web';
import { z } from 'zod';
import type { Backends, Caller } from './backends';

/** Where each channel keeps its files: `<channel>-attachment:<sha256>`. */
const STORAGE_REF = /^(email|chat)-attachment:([0-9a-f]{64})$/;
type Keeper = 'email' | 'chat';

const attachmentForm = z.object({
  conversationId: z.string().trim().min(1, 'conversationId is required').max(200, 'conversationId is too long'),
  ref: z.string().regex(STORAGE_REF, 'ref must be an attachment reference such as email-attachment:<sha256>'),
});

/** The service keeping the file did not answer, or answered what the desk cannot pass on. */
class ContentUnavailableError extends HttpError {
  constructor(detail: string) {
    super(502, `the file could not be fetched: ${detail}`);
  }
}

export interface ContentSources {
  /** The email service's attachment port, e.g. http://127.0.0.1:8108. */
  email: string;
  /** The chat service's HTTP address, e.g. http://127.0.0.1:8103. */
  chat: string;
}

export class AttachmentContent {
  private readonly tokens = new Map<string, () => Promise<string>>();

  constructor(
    private readonly sources: ContentSources,
    private readonly signer: SigningKey,
    private readonly timeoutMs = 10_000,
    private readonly maxBytes = 32 * 1024 * 1024,
  ) {}

  /** The file's bytes from the service that keeps it, asked as this person. */
  async fetch(caller: Caller, storageRef: string): Promise<Buffer> {
    const [, keeper, sha256] = STORAGE_REF.exec(storageRef) as unknown as [string, Keeper, string];
    const res = await this.ask(caller, keeper, `/internal/attachments/${sha256}`, {});
    if (res.status === 404) throw new HttpError(404, 'the file is no longer kept');
    if (!res.ok) throw new ContentUnavailableError(`${keeper} answered ${res.status}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > this.maxBytes) throw new ContentUnavailableError('the file is larger than the desk passes on');
    return bytes;
  }

  /** Keeps a file for an email reply at the email service, as this person; its refusals pass on. */
  async keepForReply(caller: Caller, bytes: Buffer, contentType: string): Promise<KeptFile> {
    const res = await this.ask(caller, 'email', '/internal/attachments', { method: 'POST', headers: { 'content-type': contentType }, body: bytes });
    const answer = (await res.json().catch(() => ({}))) as Partial<KeptFile> & { error?: string };
    if ([400, 403, 413, 415, 429].includes(res.status)) throw new HttpError(res.status, answer.error ?? `the email service refused the file (${res.status})`);
    if (res.status !== 201 || !answer.storageRef || !answer.sha256) throw new ContentUnavailableError(`email answered ${res.status}`);
    return { storageRef: answer.storageRef, sha256: answer.sha256, sizeBytes: Number(answer.sizeBytes), contentType: String(answer.contentType) };
  }

  private async ask(
    caller: Caller,
    keeper: Keeper,
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: Buffer },
  ): Promise<Response> {
    const key = `${keeper}:${caller.role}:${caller.id}`;
    let token = this.tokens.get(key);
    if (!token) this.tokens.set(key, (token = tokenSource(this.signer, caller, keeper)));
    return fetch(`${this.sources[keeper].replace(/\/$/, '')}${path}`, {
      ...init,
      headers: { ...init.headers, authorization: `Bearer ${await token()}` },
      signal: AbortSignal.timeout(this.timeoutMs),
    }).catch((err: unknown) => {
      throw new ContentUnavailableError(err instanceof Error ? err.message : String(err));
    });
  }
}

/** What the email service answers for a file it now keeps. */
export interface KeptFile {
  storageRef: string;
  sha256: string;
  sizeBytes: number;
  contentType: string;
}

/** Checks, fetches and sends one file as a download; a supervisor's reason goes to customer-record's audit. */
export async function sendAttachment(
  backends: Backends,
  content: AttachmentContent,
  caller: Caller,
  url: URL,
  reason: string,
  res: http.ServerResponse,
): Promise<void> {
  const parsed = attachmentForm.safeParse({ conversationId: url.searchParams.get('conversationId') ?? '', ref: url.searchParams.get('ref') ?? '' });
  if (!parsed.success) throw new BadRequestError(parsed.error.issues.map((i) => i.message).join('; '));
  const { conversationId, ref } = parsed.data;
  const { attachment } = await backends.openAttachment(caller, conversationId, ref, reason);
  if (!attachment) throw new HttpError(404, 'no such attachment');
  const bytes = await content.fetch(caller, ref);
  res.writeHead(200, downloadHeaders(attachment.name, servedContentType(attachment.contentType, bytes), bytes.length)).end(bytes);
}
