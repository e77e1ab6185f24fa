// A contact another application submits (POST /v1/contacts), with no I/O: the body's rules (as
// openapi.json states them), the event id a retry shares, and the ContactReceived it becomes.
// The sender is the application's own customer id, in the application's namespace: an email or
// phone number the caller passes is what the customer says, never used to find or merge a
// customer (as chat treats what a visitor types, docs/security.md#identities-and-claims).
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { idDigest } from '#libs/contact';
import { Channel, ContactKind, ContactReceived, IdentityKind } from '#libs/proto';

// The same patterns as openapi.json's, so what the document allows is what is accepted.
const LINE = /^[^\x00-\x1f\x7f]*$/;
const TEXT = /^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*[^\x00-\x20\x7f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$/;
const ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const EMAIL = /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** At most `max` characters as the document counts them (code points, not UTF-16 units). */
export const chars = (max: number, pattern: RegExp, message: string) =>
  z
    .string()
    .refine((s) => [...s].length <= max, `at most ${max} characters`)
    .regex(pattern, message);

const id = (what: string) => z.string().regex(ID, `${what}: 1-128 letters, digits and . _ : @ -`);
const line = (max: number) => chars(max, LINE, 'plain text on one line');

export const contactRequestSchema = z
  .object({
    threadId: id('threadId'),
    customer: z
      .object({
        id: id('customer.id'),
        name: line(200).optional(),
        email: z.string().max(254).regex(EMAIL, 'email: an address such as kim@example.org').optional(),
        phone: z
          .string()
          .regex(/^\+[1-9][0-9]{6,14}$/, 'phone: E.164, such as +15005550006')
          .optional(),
      })
      .strict(),
    // Whom the application acts for: customer-record takes it only under a mandate (docs/customer-record.md).
    onBehalfOf: z
      .object({
        email: z.string().max(254).regex(EMAIL, 'onBehalfOf.email: an address such as kim@example.org').optional(),
        phone: z
          .string()
          .regex(/^\+[1-9][0-9]{6,14}$/, 'onBehalfOf.phone: E.164, such as +15005550006')
          .optional(),
      })
      .strict()
      .refine((o) => Object.keys(o).length === 1, 'onBehalfOf: exactly one of email or phone')
      .optional(),
    subject: line(200).optional(),
    text: chars(10_000, TEXT, 'text: some words, without control characters'),
    language: z
      .string()
      .max(35)
      .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'language: a BCP 47 tag such as en or pt-BR')
      .optional(),
    metadata: z
      .record(z.string().regex(/^[A-Za-z0-9._-]{1,40}$/, 'metadata keys: 1-40 letters, digits and . _ -'), line(500))
      .refine((m) => Object.keys(m).length <= 20, 'metadata: at most 20 entries')
      .optional(),
  })
  .strict();

export type ContactRequest = z.infer<typeof contactRequestSchema>;

/** What tells two submissions apart: the body, whatever the order of its keys. */
export function fingerprint(request: unknown): string {
  return createHash('sha256').update(canonical(request)).digest('base64url');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** The Idempotency-Key header's rule (printable ASCII, 1-255), as the document states it. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** ce_id and contact id: the same for the same key's same Idempotency-Key, so a retry is one contact. */
export function contactEventId(apiKeyId: string, idempotencyKey: string | undefined): string {
  return idempotencyKey ? `api-${apiKeyId}-${idDigest(`${apiKeyId}\n${idempotencyKey}`)}` : `api-${apiKeyId}-${randomUUID()}`;
}

export interface ThreadConversation {
  conversationId: string;
  reference: string;
  isNew: boolean;
}

export function apiContact(
  request: ContactRequest,
  who: { application: string; contactId: string },
  thread: ThreadConversation,
  receivedAt: Date,
): ContactReceived {
  const claimed = [
    ...(request.customer.email ? [{ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: request.customer.email.toLowerCase(), namespace: '' }] : []),
    ...(request.customer.phone ? [{ kind: IdentityKind.IDENTITY_KIND_PHONE, value: request.customer.phone, namespace: '' }] : []),
  ];
  return ContactReceived.fromPartial({
    contactId: who.contactId,
    conversationId: thread.conversationId,
    channel: Channel.CHANNEL_API,
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    receivedAt,
    sender: { kind: IdentityKind.IDENTITY_KIND_OTHER, value: request.customer.id, namespace: `api.${who.application}` },
    senderDisplayName: request.customer.name ?? '',
    newConversation: thread.isNew,
    conversationReference: thread.reference,
    subject: request.subject ?? '',
    text: request.text,
    language: request.language ?? '',
    externalId: request.threadId,
    channelMetadata: { ...request.metadata, application: who.application, 'thread-id': request.threadId },
    claimedIdentities: claimed,
    ...(request.onBehalfOf ? { onBehalfOf: onBehalfIdentity(request.onBehalfOf) } : {}),
  });
}

function onBehalfIdentity(o: NonNullable<ContactRequest['onBehalfOf']>) {
  return o.email
    ? { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: o.email.toLowerCase(), namespace: '' }
    : { kind: IdentityKind.IDENTITY_KIND_PHONE, value: o.phone!, namespace: '' };
}
