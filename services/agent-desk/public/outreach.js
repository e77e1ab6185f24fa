// Writing first to customers: from the customer card, to one of the customer's verified
// identities (a new conversation whose answer comes back to the writer), and a supervisor's
// notice to a list of customers, with its progress; and the supervisor's opening hours. Uses app.js's `$`, `el`, `api`, `notice` and
// `state`; every value from the server is put in as text.
/* global $, el, api, notice, state */
'use strict';

const outreach = { noticeTimer: 0 };

/** The card's verified emails and phones, as the choices of "To". */
window.renderWriteFirst = function (card) {
  const options = (card ? card.identities : [])
    .filter((i) => i.kind === 'email' || i.kind === 'phone')
    .map((i) => el('option', { value: `${i.kind === 'email' ? 'email' : 'sms'} ${i.value}`, text: `${i.kind === 'email' ? 'Email' : 'SMS'} to ${i.value}` }));
  $('write-first-to').replaceChildren(...options);
  $('write-first').hidden = options.length === 0;
};

$('write-first-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const [channel, to] = $('write-first-to').value.split(' ');
  try {
    const answer = await api('/api/outreach/start', {
      fromConversationId: state.current,
      channel,
      to,
      subject: channel === 'email' ? $('write-first-subject').value : '',
      text: $('write-first-text').value,
      skill: $('write-first-skill').value.trim(),
      requestId: crypto.randomUUID(),
    });
    $('write-first-text').value = '';
    notice(`Sent: conversation ${answer.conversationId}. The answer comes back to you.`);
  } catch (err) {
    notice(err.message);
  }
});

function showNoticeProgress(p) {
  const c = p.counts;
  const problems = p.problems.map((x) => `${x.customerId}: ${x.outcome} (${x.why})`).join('; ');
  $('notice-progress').textContent =
    `Notice ${p.noticeId}: ${p.done} of ${p.total} — ${c.started} sent, ${c['already-sent']} already sent, ${c.skipped} skipped, ${c.failed} failed` +
    `${p.finished ? '. Done.' : '…'}${problems ? ` ${problems}` : ''}`;
  clearTimeout(outreach.noticeTimer);
  if (!p.finished)
    outreach.noticeTimer = setTimeout(async () => {
      try {
        showNoticeProgress(await api(`/api/outreach/notice?noticeId=${encodeURIComponent(p.noticeId)}`));
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
