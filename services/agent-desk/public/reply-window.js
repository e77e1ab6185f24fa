// WhatsApp's 24-hour rule, stated where the agent writes: a free reply can go until 24 hours after
// the customer's last message; after that only the approved template can, which sms-voice sends
// in the reply's place (the reply is then reported undelivered, with why). Uses app.js's `$` and
// `fmtTime`.
/* global $, fmtTime */
'use strict';

const WHATSAPP_WINDOW_MS = 24 * 3600 * 1000;

/** The note for a WhatsApp conversation's reply box, from its timeline items; '' on other channels. */
function whatsappWindowNote(channel, items, now) {
  if (channel !== 'whatsapp') return '';
  const last = Math.max(0, ...items.filter((i) => i.kind === 'in' && i.channel === 'whatsapp').map((i) => i.at));
  if (!last) return 'WhatsApp: the customer has not written on WhatsApp, so only the approved template can be sent, asking them to write back.';
  const closes = last + WHATSAPP_WINDOW_MS;
  if (closes > now)
    return `WhatsApp: you can reply freely until ${fmtTime(closes)} (24 hours after the customer's last message). After that only the approved template can be sent.`;
  return `WhatsApp: the 24-hour reply window closed at ${fmtTime(closes)}. A reply now sends only the approved template asking the customer to write back; send your reply again once they answer.`;
}

window.renderReplyWindow = function (c) {
  const note = $('reply-window');
  const text = whatsappWindowNote(c.offer.channel, [...c.items.values()], Date.now());
  note.hidden = !text;
  note.textContent = text;
};
