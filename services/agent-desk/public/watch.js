// The supervisor's silent view of a chat and the list of live calls to monitor. The view is its
// own WebSocket (/live/watch) that only receives: the page has nothing to send on it. Uses
// app.js's `$`, `el`, `api`, `notice` and `fmtTime`; every text is put into the page as text.
/* global $, el, api, notice, fmtTime, recordingPlayer, watchButton */
'use strict';

const watching = { socket: null };

function watchedItem(i, conversationId, reason) {
  const who = i.kind === 'in' ? 'Visitor' : i.kind === 'out' ? `Agent ${i.agentId}` : 'Event';
  return el(
    'li',
    { class: i.kind, 'data-entry': i.id },
    el('span', { class: 'meta', text: `${who} · ${fmtTime(i.at)}` }),
    i.text || (i.kind === 'event' ? i.detail : ''),
    i.recording ? recordingPlayer(conversationId, i.recording, reason) : null,
  );
}

function stopWatching(text) {
  const ws = watching.socket;
  watching.socket = null;
  if (ws) ws.close(1000, 'stopped');
  $('watch-stop').hidden = true;
  $('watch-status').textContent = text;
}

$('watch-form').addEventListener('submit', (e) => {
  e.preventDefault();
  stopWatching('');
  const id = $('watch-conversation').value.trim();
  const q = new URLSearchParams({ conversationId: id, reason: $('watch-reason').value.trim() });
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/live/watch?${q}`);
  watching.socket = ws;
  $('watch-log').replaceChildren();
  $('watch-status').textContent = `opening ${id}…`;
  ws.addEventListener('open', () => {
    $('watch-stop').hidden = false;
  });
  ws.addEventListener('message', (m) => {
    let msg;
    try {
      msg = JSON.parse(m.data);
    } catch {
      return;
    }
    if (msg.type === 'status') $('watch-status').textContent = `${msg.text}: ${id}`;
    else if (msg.type === 'watched') $('watch-log').append(...msg.items.map((i) => watchedItem(i, id, q.get('reason'))));
  });
  ws.addEventListener('close', () => {
    if (watching.socket !== ws) return;
    // A refused upgrade gives the browser no status: the desk's answer is read over HTTP instead.
    const opened = !$('watch-stop').hidden;
    stopWatching(opened ? 'the view closed' : '');
    if (!opened) notice('The conversation could not be watched: check its id and your reason.');
  });
});
$('watch-stop').addEventListener('click', () => stopWatching('stopped watching'));

async function monitor(conversationId, action) {
  try {
    await api('/api/call/monitor', { conversationId, action });
    notice(`Joined the call: ${action}.`);
  } catch (err) {
    notice(err.message);
  }
}

const MONITOR_ACTIONS = [
  ['listen', 'Listen'],
  ['whisper', 'Whisper'],
  ['barge', 'Barge'],
];

/** A row of the live lists: conversation, queue, agent, since when, state, and what may be done. */
function liveRow(r, actions) {
  return el(
    'tr',
    { 'data-conversation': r.conversationId, 'data-state': r.state },
    el('td', { text: r.conversationId }),
    el('td', { text: r.queue || '—' }),
    el('td', { text: r.agentId || 'waiting' }),
    el('td', { text: fmtTime(r.since) }),
    el('td', { class: 'state', text: r.state }),
    el('td', {}, actions),
  );
}

$('live-calls-load').addEventListener('click', async () => {
  try {
    const { calls, note } = await api('/api/live-calls');
    $('live-calls').tBodies[0].replaceChildren(
      ...calls.map((c) =>
        liveRow(
          c,
          MONITOR_ACTIONS.map(([action, label]) =>
            el('button', { type: 'button', class: 'secondary', 'data-action': action, text: label, onclick: () => monitor(c.conversationId, action) }),
          ),
        ),
      ),
    );
    $('live-calls-empty').hidden = calls.length > 0;
    $('live-calls-note').hidden = !note;
    $('live-calls-note').textContent = note || '';
  } catch (err) {
    notice(err.message);
  }
});

$('live-chats-load').addEventListener('click', async () => {
  try {
    const { chats } = await api('/api/live-chats');
    $('live-chats').tBodies[0].replaceChildren(...chats.map((c) => liveRow(c, watchButton(c.conversationId))));
    $('live-chats-empty').hidden = chats.length > 0;
  } catch (err) {
    notice(err.message);
  }
});
