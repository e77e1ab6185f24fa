import { describe, expect, it } from 'vitest';
import { Channel, ContactKind, ContactReceived, IdentityKind, Presence, Tier } from '#libs/proto';
import { RoutingEngine } from '../src/core/engine';
import { DEFAULT_POLICY } from '../src/core/policy';
import { MAX_REPLY_ATTACHMENTS, replyAttachments } from '../src/core/reply-files';

const sha = 'a'.repeat(64);
const file = { name: 'invoice.pdf', contentType: 'application/pdf', sizeBytes: 1200, sha256: sha, storageRef: `email-attachment:${sha}` };

describe('files on a reply', () => {
  it('passes an email reply’s references through as copies', () => {
    const out = replyAttachments('email', [file]);
    expect(out).toEqual([file]);
    expect(out[0]).not.toBe(file);
  });

  it('refuses files on another channel, a chat file, a mismatched hash, a path in the name and too many files', () => {
    expect(() => replyAttachments('sms', [file])).toThrow(/email replies only, not on sms/);
    expect(() => replyAttachments('email', [{ ...file, storageRef: `chat-attachment:${sha}` }])).toThrow(/attachment 1: storage_ref must be email-attachment/);
    expect(() => replyAttachments('email', [{ ...file, sha256: 'b'.repeat(64) }])).toThrow(/does not match/);
    expect(() => replyAttachments('email', [{ ...file, name: '../etc/passwd' }])).toThrow(/path separators/);
    expect(() =>
      replyAttachments(
        'email',
        Array.from({ length: MAX_REPLY_ATTACHMENTS + 1 }, () => file),
      ),
    ).toThrow(/at most 10 files, not 11/);
  });

  it('fills the hash from the reference and carries nothing when there are no files', () => {
    expect(replyAttachments('email', [{ ...file, sha256: '' }])[0]!.sha256).toBe(sha);
    expect(replyAttachments('chat', [])).toEqual([]);
  });
});

describe('an email reply with files', () => {
  it('carries them on the outbound message and on the replied step', () => {
    const engine = new RoutingEngine(DEFAULT_POLICY, { now: () => Date.UTC(2026, 0, 5, 9) });
    engine.registerAgent({ id: 'a1', name: 'Ana', tier: Tier.TIER_FRONT_OFFICE, skills: { general: 3 }, languages: ['en'] });
    engine.setPresence('a1', Presence.PRESENCE_AVAILABLE);
    const contact = { contactId: 'm1', conversationId: 'c1', channel: Channel.CHANNEL_EMAIL, kind: ContactKind.CONTACT_KIND_MESSAGE, text: 'hello' };
    engine.contactReceived(ContactReceived.fromPartial({ ...contact, sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'x@example.com' } }));
    engine.accept('a1', 'c1');
    const { effects } = engine.reply('a1', 'c1', 'Your invoice, attached.', '', [file]);
    const out = effects.find((e) => e.type === 'outbound');
    const step = effects.flatMap((e) => (e.type === 'conversation' && e.event.step?.$case === 'replied' ? [e.event.step.replied] : []));
    expect(out?.type === 'outbound' && out.message.attachments).toEqual([file]);
    expect(step[0]?.attachments).toEqual([file]);
  });
});
