// The supervisor's silent view of a chat and the list of live calls to monitor. The view is its
// own WebSocket (/live/watch) that only receives: the page has nothing to send on it. Uses
// app.js's `$`, `el`, `api`, `notice` and `fmtTime`; every text is put into the page as text.
/* global $, el, api, notice, fmtTime */
'use strict';

const watching = { socket: null };

function watchedItem(i) {
  const who = i.kind === 'in' ? 'Visitor' : i.kind === 'out' ? `Agent ${i.agentId}` : 'Event';
  return el(
    'li',
    { class: i.kind, 'data-entry': i.id },
    el('span', { class: 'meta', text: `${who} · ${fmtTime(i.at)}` }),
    i.text || (i.kind === 'event' ? i.detail : ''),
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
    else if (msg.type === 'watched') $('watch-log').append(...msg.items.map(watchedItem));
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

$('live-calls-load').addEventListener('click', async () => {
  try {
    const { calls } = await api('/api/live-calls');
    $('live-calls').tBodies[0].replaceChildren(
      ...calls.map((c) =>
        el(
          'tr',
          { 'data-conversation': c.conversationId },
          el('td', { text: c.conversationId }),
          el('td', { text: c.queue || '—' }),
          el('td', { text: c.agentId || 'waiting' }),
          el('td', { text: fmtTime(c.since) }),
          el(
            'td',
            {},
            MONITOR_ACTIONS.map(([action, label]) =>
              el('button', { type: 'button', class: 'secondary', 'data-action': action, text: label, onclick: () => monitor(c.conversationId, action) }),
            ),
          ),
        ),
      ),
    );
    $('live-calls-empty').hidden = calls.length > 0;
  } catch (err) {
    notice(err.message);
  }
});
