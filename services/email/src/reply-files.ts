// The files an agent attached to a reply, loaded from the email service's own store and handed
// to nodemailer. A reference to nothing stored, or files over the reply's total, can never be
// sent as the agent meant it: the message is dead-lettered (InvalidEventError) with the reason,
// never mailed without its files. A store that fails throws on, and the consumer retries.
import { InvalidEventError } from '#libs/kafka';
import type { Attachment } from '#libs/proto';
import { safeFileName, servedContentType, type StoredFile } from '#libs/web';

/** One file as nodemailer takes it; nodemailer encodes a non-ASCII filename (RFC 2231). */
export interface MailAttachment {
  filename: string;
  content: Buffer;
  contentType: string;
}

const EMAIL_REF = /^email-attachment:([0-9a-f]{64})$/;

/** The content hash of a file the email service keeps, from its reference; undefined for anything else. */
export function storedHash(storageRef: string): string | undefined {
  return EMAIL_REF.exec(storageRef)?.[1];
}

/** Loads and checks every file of the reply; an empty list for a message without files. */
export async function replyFiles(
  attachments: readonly Attachment[],
  find: (sha256: string) => Promise<StoredFile | undefined>,
  maxTotalBytes: number,
): Promise<MailAttachment[]> {
  const found = await Promise.all(
    attachments.map(async (a, i) => {
      const sha256 = storedHash(a.storageRef);
      if (!sha256) throw new InvalidEventError(`attachment ${i + 1} is not a file the email service keeps (${a.storageRef.slice(0, 80)})`);
      const file = await find(sha256);
      if (!file) throw new InvalidEventError(`attachment ${i + 1} (${sha256}) is not stored, so the reply is not sent without it`);
      return { a, file };
    }),
  );
  const total = found.reduce((sum, { file }) => sum + file.content.length, 0);
  if (total > maxTotalBytes) throw new InvalidEventError(`the reply's files total ${total} bytes, over the ${maxTotalBytes} bytes a reply may carry`);
  return found.map(({ a, file }) => mailAttachment(a, file));
}

/** The file as mailed: a safe name, and the stored type only where the bytes bear it out. */
function mailAttachment(a: Attachment, file: StoredFile): MailAttachment {
  return {
    filename: safeFileName(a.name),
    content: file.content,
    contentType: servedContentType(file.contentType, file.content),
  };
}
