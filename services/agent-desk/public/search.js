// Finding conversations in the desk: the search form and its table for every role, and the
// supervisor's open conversations by queue and agent with a button that fills the reassign form.
// Uses app.js's `$`, `el`, `api`, `notice`, `state` and `fmtTime`; everything found is put into the page as text.
/* global $, el, api, notice, state, fmtTime */
'use strict';

const search = { params: null, next: '' };

function reassignButton(id) {
  if (!state.me || state.me.role !== 'supervisor') return null;
  return el('button', {
    type: 'button',
    class: 'secondary',
    text: 'Reassign…',
    onclick: () => {
      $('reassign-conversation').value = id;
      $('reassign-agent').focus();
    },
  });
}

/** Puts a chat's id into the silent view's form; the supervisor gives the reason. */
function watchButton(id) {
  return el('button', {
    type: 'button',
    class: 'secondary',
    text: 'Watch…',
    onclick: () => {
      $('watch-conversation').value = id;
      $('watch-reason').focus();
    },
  });
}

function searchRowEl(r) {
  return el(
    'tr',
    { 'data-conversation': r.conversationId },
    el('td', { text: fmtTime(r.lastActivityAt) }),
    el('td', { text: r.conversationId }),
    el('td', { text: r.channel }),
    el('td', { text: r.state }),
    el('td', { text: r.queue }),
    el('td', { text: r.agentId }),
    el('td', { text: String(r.messages) }),
    el('td', { class: 'match', text: r.snippet || r.subject }),
    el('td', {}, reassignButton(r.conversationId)),
  );
}

async function runSearch(more) {
  const q = new URLSearchParams(search.params);
  if (more) q.set('pageToken', search.next);
  try {
    const data = await api(`/api/search?${q}`);
    const body = $('search-results').tBodies[0];
    const rows = data.rows.map(searchRowEl);
    if (more) body.append(...rows);
    else body.replaceChildren(...rows);
    search.next = data.next;
    $('search-more').hidden = !data.next;
    $('search-empty').hidden = body.rows.length > 0;
  } catch (err) {
    notice(err.message);
  }
}

$('search-form').addEventListener('submit', (e) => {
  e.preventDefault();
  search.params = new URLSearchParams([...new FormData($('search-form'))].filter(([, v]) => String(v).trim()));
  runSearch(false);
});
$('search-more').addEventListener('click', () => runSearch(true));

$('open-load').addEventListener('click', async () => {
  try {
    const data = await api('/api/search?state=open&pageSize=200');
    $('open-conversations').tBodies[0].replaceChildren(
      ...data.groups.flatMap((g) =>
        g.rows.map((r, i) =>
          el(
            'tr',
            { 'data-conversation': r.conversationId },
            el('td', { text: i === 0 ? g.queue || '—' : '' }),
            el('td', { text: i === 0 ? g.agentId || 'waiting' : '' }),
            el('td', { text: r.conversationId }),
            el('td', { text: r.channel }),
            el('td', { text: r.state }),
            el('td', { text: fmtTime(r.lastActivityAt) }),
            el('td', {}, reassignButton(r.conversationId), r.channel === 'chat' ? watchButton(r.conversationId) : null),
          ),
        ),
      ),
    );
  } catch (err) {
    notice(err.message);
  }
});
