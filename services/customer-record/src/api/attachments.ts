// Opening a file a message of a conversation carried: the same guard as every read of the
// conversation's customer, then the file must be one of that conversation's own. Both the
// opening and a refusal are audited, so a person probing files shows in the log.
import type { Caller } from '#libs/auth';
import { InvalidArgumentError, NotFoundError } from '#libs/service';
import type { OpenAttachmentRequest, OpenAttachmentResponse } from '#libs/proto';
import { ReadRefusedError } from '../access';
import { audited } from './answers';
import type { ApiDeps } from './deps';
import { requireId, scopeOf } from './requests';

/** Where a channel service keeps a file: `<channel>-attachment:<sha256>`. */
const STORAGE_REF = /^(email|chat)-attachment:[0-9a-f]{64}$/;

export async function openAttachment(deps: ApiDeps, req: OpenAttachmentRequest, caller: Caller): Promise<OpenAttachmentResponse> {
  const conversationId = requireId(req.conversationId, 'conversation_id');
  if (!STORAGE_REF.test(req.storageRef)) throw new InvalidArgumentError('storage_ref must be email-attachment:<sha256> or chat-attachment:<sha256>');
  const scope = scopeOf({ conversationId, reason: req.reason });
  let customerId = '';
  try {
    customerId = await deps.guard.authorise(caller, scope, async () => null);
    const attachment = await deps.pages.attachmentOf(customerId, conversationId, req.storageRef);
    if (!attachment) throw new NotFoundError(`no message of conversation ${conversationId} carried this file`);
    await audited(deps, caller, 'OpenAttachment', customerId, conversationId, scope.reason);
    return { attachment };
  } catch (err) {
    if (err instanceof ReadRefusedError || err instanceof NotFoundError)
      await audited(deps, caller, 'OpenAttachmentRefused', customerId, conversationId, scope.reason);
    throw err;
  }
}
