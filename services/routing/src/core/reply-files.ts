// The files an agent's reply carries: only on email, and only references to files the email
// service keeps (email-attachment:<sha256>), since that is the service that sends them. The
// bytes themselves never pass through routing.
import type { Attachment } from '#libs/proto';
import type { ChannelName } from '#libs/contact';
import { RoutingError } from './records';

/** The most files one reply carries. */
export const MAX_REPLY_ATTACHMENTS = 10;
const EMAIL_REF = /^email-attachment:([0-9a-f]{64})$/;

/** The reply's files as they go out (copies), or an INVALID_ARGUMENT saying which one is wrong. */
export function replyAttachments(channel: ChannelName, attachments: readonly Attachment[]): Attachment[] {
  if (!attachments.length) return [];
  if (channel !== 'email') throw new RoutingError('INVALID_ARGUMENT', `files are attached to email replies only, not on ${channel}`);
  if (attachments.length > MAX_REPLY_ATTACHMENTS)
    throw new RoutingError('INVALID_ARGUMENT', `a reply carries at most ${MAX_REPLY_ATTACHMENTS} files, not ${attachments.length}`);
  return attachments.map((a, i) => {
    const which = `attachment ${i + 1}`;
    const sha256 = EMAIL_REF.exec(a.storageRef)?.[1];
    if (!sha256) throw new RoutingError('INVALID_ARGUMENT', `${which}: storage_ref must be email-attachment:<sha256>`);
    if (a.sha256 && a.sha256 !== sha256) throw new RoutingError('INVALID_ARGUMENT', `${which}: sha256 does not match its storage_ref`);
    const name = a.name.trim();
    if (!name || name.length > 255 || /[\u0000-\u001f\u007f\\/]/.test(name))
      throw new RoutingError('INVALID_ARGUMENT', `${which}: the file name must be 1 to 255 characters without path separators or control characters`);
    if (a.contentType.length > 255 || /[\u0000-\u001f\u007f]/.test(a.contentType))
      throw new RoutingError('INVALID_ARGUMENT', `${which}: the content type is not valid`);
    if (a.sizeBytes < 0) throw new RoutingError('INVALID_ARGUMENT', `${which}: size_bytes is negative`);
    return { name, contentType: a.contentType, sizeBytes: a.sizeBytes, sha256, storageRef: a.storageRef };
  });
}
