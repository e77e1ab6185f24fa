// Writing first to customers: from the customer card, to one of the customer's verified
// identities (a new conversation whose answer comes back to the writer; on WhatsApp an approved
// template with its variables), followed until the channel reports what became of it, and a
// supervisor's notice to a list of customers, with its progress and deliveries; and the supervisor's opening hours. Uses app.js's `$`, `el`, `api`, `notice` and
// `state`; every value from the server is put in as text.
/* global $, el, api, notice, state */
'use strict';

const outreach = { noticeTimer: 0, deliveryTimer: 0, following: '', templates: null, shown: undefined };

const CHANNEL_WORDS = { email: 'Email', sms: 'SMS', whatsapp: 'WhatsApp' };

/** The card's verified emails and phones, as the choices of "To": a phone by SMS and by WhatsApp. */
window.renderWriteFirst = function (card) {
  const options = (card ? card.identities : [])
    .filter((i) => i.kind === 'email' || i.kind === 'phone')
    .flatMap((i) => (i.kind === 'email' ? ['email'] : ['sms', 'whatsapp']).map((channel) => ({ channel, value: i.value })))
    .map((o) => el('option', { value: `${o.channel} ${o.value}`, text: `${CHANNEL_WORDS[o.channel]} to ${o.value}` }));
  // The card is drawn again while the conversation is open: keep what the writer chose.
  const chosen = $('write-first-to').value;
  $('write-first-to').replaceChildren(...options);
  if (options.some((o) => o.value === chosen)) $('write-first-to').value = chosen;
  $('write-first').hidden = options.length === 0;
  showChannelFields();
};

/** The approved templates, read once: the desk's configured list. */
async function loadTemplates() {
  if (outreach.templates) return;
  outreach.templates = [];
  try {
    outreach.templates = (await api('/api/outreach/whatsapp-templates')).templates;
  } catch (err) {
    notice(err.message);
  }
  $('write-first-template').replaceChildren(
    ...outreach.templates.map((t) => el('option', { value: t.name, text: `${t.name} (${t.language})` })),
    el('option', { value: '', text: 'Free text (only within 24 hours of their last message)' }),
  );
  showTemplate();
}

function chosenTemplate() {
  const channel = $('write-first-to').value.split(' ')[0];
  return channel === 'whatsapp' ? (outreach.templates || []).find((t) => t.name === $('write-first-template').value) : undefined;
}

/** The template's preview and one field per variable, each as long as the template allows. */
function showTemplate() {
  const t = chosenTemplate();
  $('write-first-text').disabled = Boolean(t);
  // Drawn again only for another template, so values being typed stay.
  if (outreach.shown === t) return;
  outreach.shown = t;
  $('write-first-preview').textContent = t ? `The customer reads: ${t.preview}` : '';
  $('write-first-variables').replaceChildren(
    ...(t ? t.variables : []).map((v, i) =>
      el('label', {}, `{{${i + 1}}} ${v.label} `, el('input', { class: 'template-variable', required: true, maxlength: v.maxLength, 'aria-label': v.label })),
    ),
  );
}

function showChannelFields() {
  const channel = $('write-first-to').value.split(' ')[0];
  const whatsapp = channel === 'whatsapp';
  $('write-first-whatsapp').hidden = !whatsapp;
  $('write-first-subject').closest('label').hidden = channel !== 'email';
  if (whatsapp) loadTemplates();
  showTemplate();
}

$('write-first-to').addEventListener('change', showChannelFields);
$('write-first-template').addEventListener('change', showTemplate);

/** "Queued" until the channel reports: then sent, or not sent and why (opted out, WhatsApp's window, a failure). */
function followDelivery(requestId, conversationId, view, polls = 0) {
  // Only the latest write is followed: an earlier one's answer arriving late changes nothing.
  if (outreach.following !== requestId) return;
  $('write-first-status').textContent = `Conversation ${conversationId}: ${view.words}`;
  if ((view.state !== 'queued' && view.state !== 'retrying') || polls >= 60) return;
  outreach.deliveryTimer = setTimeout(async () => {
    try {
      followDelivery(requestId, conversationId, await api(`/api/outreach/delivery?requestId=${encodeURIComponent(requestId)}`), polls + 1);
    } catch (err) {
      notice(err.message);
    }
  }, 1000);
}

$('write-first-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const [channel, to] = $('write-first-to').value.split(' ');
  const template = chosenTemplate();
  const requestId = crypto.randomUUID();
  clearTimeout(outreach.deliveryTimer);
  outreach.following = requestId;
  try {
    const answer = await api('/api/outreach/start', {
      fromConversationId: state.current,
      channel,
      to,
      subject: channel === 'email' ? $('write-first-subject').value : '',
      text: template ? '' : $('write-first-text').value,
      template: template ? template.name : '',
      variables: template ? [...document.querySelectorAll('#write-first-variables .template-variable')].map((i) => i.value) : [],
      skill: $('write-first-skill').value.trim(),
      requestId,
    });
    $('write-first-text').value = '';
    followDelivery(requestId, answer.conversationId, answer.delivery);
  } catch (err) {
    $('write-first-status').textContent = err.message;
  }
});

function showNoticeProgress(p) {
  const c = p.counts;
  const problems = p.problems.map((x) => `${x.customerId}: ${x.outcome} (${x.why})`).join('; ');
  const d = p.deliveries;
  const delivered = d
    ? ` Delivery: ${d.sent} sent, ${d.optedOut} opted out (STOP), ${d.notSent} not sent, ${d.queued} queued.` +
      d.problems.map((x) => ` ${x.customerId}: ${x.why}`).join('')
    : '';
  $('notice-progress').textContent =
    `Notice ${p.noticeId}: ${p.done} of ${p.total} — ${c.started} started, ${c['already-sent']} already sent, ${c.skipped} skipped, ${c.failed} failed` +
    `${p.finished ? '. Done.' : '…'}${problems ? ` ${problems}` : ''}${delivered}`;
  clearTimeout(outreach.noticeTimer);
  // Followed until every started conversation has its delivery outcome (for at most two minutes).
  const polls = (p.polls || 0) + 1;
  if ((!p.finished || (d && d.queued > 0)) && polls < 120)
    outreach.noticeTimer = setTimeout(async () => {
      try {
        showNoticeProgress({ ...(await api(`/api/outreach/notice?noticeId=${encodeURIComponent(p.noticeId)}`)), polls });
      } catch (err) {
        notice(err.message);
      }
    }, 1000);
}

$('notice-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const channel = $('notice-channel').value;
  try {
    showNoticeProgress(
      await api('/api/outreach/notice', {
        noticeId: $('notice-id').value.trim(),
        channel,
        customerIds: $('notice-customers')
          .value.split('\n')
          .map((s) => s.trim())
          .filter(Boolean),
        subject: channel === 'email' ? $('notice-subject').value : '',
        text: $('notice-text').value,
        skill: $('notice-skill').value.trim(),
      }),
    );
  } catch (err) {
    notice(err.message);
  }
});

// Opening hours: read and replaced as a whole, as routing keeps them.
$('calendars-load').addEventListener('click', async () => {
  try {
    const { calendarsJson } = await api('/api/calendars');
    $('calendars-json').value = JSON.stringify(JSON.parse(calendarsJson), null, 2);
  } catch (err) {
    notice(err.message);
  }
});

$('calendars-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const { calendarsJson } = await api('/api/calendars', { calendarsJson: $('calendars-json').value });
    $('calendars-json').value = JSON.stringify(JSON.parse(calendarsJson), null, 2);
    notice('Opening hours saved.');
  } catch (err) {
    notice(err.message);
  }
});
