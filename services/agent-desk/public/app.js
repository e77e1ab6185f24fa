// The desk page. Everything that came from a customer or another person is put into the page
// with textContent / text nodes only: the page never parses data as HTML.
'use strict';

const $ = (id) => document.getElementById(id);

/** Builds an element; string children become text nodes. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return node;
}

const state = {
  me: null,
  csrf: '',
  presence: 'offline',
  offers: new Map(), // conversationId → offer view
  conversations: new Map(), // conversationId → { offer, items: Map, card, pending: [] }
  current: '',
  socket: null,
  agents: [],
};

function notice(text) {
  const n = $('notice');
  n.textContent = text;
  n.hidden = !text;
  if (text)
    setTimeout(() => {
      if (n.textContent === text) n.hidden = true;
    }, 8000);
}

async function api(path, body) {
  const init =
    body === undefined
      ? { method: 'GET', headers: {} }
      : { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': state.csrf }, body: JSON.stringify(body) };
  init.credentials = 'same-origin';
  const res = await fetch(path, init);
  const data = await res.json().catch(() => ({}));
  if (res.status === 401 && path !== '/api/sign-in' && path !== '/api/me') {
    showSignIn('Your session has ended. Please sign in again.');
  }
  if (!res.ok) throw new Error(data.error || `request failed (${res.status})`);
  return data;
}

// A file for an email reply: its bytes as the body, its name in a header; the desk answers with
// the reference the reply carries.
async function keepReplyFile(file) {
  const res = await fetch('/api/reply-file', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': file.type || 'application/octet-stream', 'x-csrf-token': state.csrf, 'x-file-name': encodeURIComponent(file.name) },
    body: file,
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${file.name}: ${data.error || `the file was refused (${res.status})`}`);
  return data;
}

function fmtTime(ms) {
  if (!ms) return '';
  return new Date(ms).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

// --- screens ---------------------------------------------------------------------------

function showSignIn(message) {
  state.me = null;
  if (state.socket) state.socket.close();
  for (const id of ['desk-screen', 'floor-screen', 'search-screen', 'who', 'presence', 'sign-out', 'canned-open']) $(id).hidden = true;
  $('signin-screen').hidden = false;
  $('signin-error').textContent = message || '';
  $('link').textContent = '';
  $('signin-id').focus();
}

function showDesk(me) {
  state.me = me.staff;
  state.csrf = me.csrf;
  $('signin-screen').hidden = true;
  $('who').hidden = false;
  $('who').textContent = `${me.staff.name} · ${me.staff.role}`;
  $('sign-out').hidden = false;
  $('canned-open').hidden = false;
  const worker = me.staff.role === 'agent' || me.staff.role === 'expert';
  $('presence').hidden = !worker;
  $('desk-screen').hidden = !worker;
  $('floor-screen').hidden = me.staff.role !== 'supervisor';
  $('search-screen').hidden = false;
  $('escalate-form').hidden = me.staff.role !== 'agent';
  $('handback-form').hidden = me.staff.role !== 'expert';
  document.body.dataset.role = me.staff.role;
  connect();
  if (worker && window.setUpSoftphone) window.setUpSoftphone();
}

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('signin-error').textContent = '';
  try {
    const me = await api('/api/sign-in', { id: $('signin-id').value, password: $('signin-password').value });
    $('signin-password').value = '';
    showDesk(me);
    if (me.warning) notice(me.warning);
  } catch (err) {
    $('signin-error').textContent = err.message;
  }
});

$('sign-out').addEventListener('click', async () => {
  try {
    await api('/api/sign-out', {});
  } catch (err) {
    notice(err.message);
  }
  state.offers.clear();
  state.conversations.clear();
  state.current = '';
  renderOffers();
  renderMine();
  renderConversation();
  showSignIn('Signed out.');
});

for (const b of document.querySelectorAll('[data-presence]')) {
  b.addEventListener('click', async () => {
    try {
      await api('/api/presence', { presence: b.dataset.presence });
      setPresence(b.dataset.presence);
    } catch (err) {
      notice(err.message);
    }
  });
}

function setPresence(p) {
  state.presence = p;
  for (const b of document.querySelectorAll('[data-presence]')) b.setAttribute('aria-pressed', String(b.dataset.presence === p));
}

// --- live ----------------------------------------------------------------------------------

function connect() {
  if (state.socket) state.socket.close();
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/live`);
  state.socket = ws;
  $('link').textContent = 'connecting…';
  ws.addEventListener('open', () => {
    $('link').textContent = 'live';
  });
  ws.addEventListener('message', (e) => {
    let msg;
    try {
      msg = JSON.parse(e.data);
    } catch {
      return;
    }
    onLive(msg);
  });
  ws.addEventListener('close', (e) => {
    if (state.socket !== ws) return;
    state.socket = null;
    if (!state.me) return;
    if (e.code === 4001) return void showSignIn('Your session has ended. Please sign in again.');
    $('link').textContent = 'offline — reconnecting…';
    setTimeout(() => {
      if (state.me && !state.socket) connect();
    }, 2000);
  });
}

function onLive(msg) {
  switch (msg.type) {
    case 'status':
      $('link').textContent = msg.text === 'connected' ? 'live' : msg.text;
      break;
    case 'agent':
      if (msg.agent.agentId === state.me?.id) {
        setPresence(['available', 'away', 'offline'].includes(msg.agent.presence) ? msg.agent.presence : state.presence);
        $('load').textContent = `${msg.agent.active}/${msg.agent.capacity}`;
      }
      break;
    case 'offer':
      state.offers.set(msg.offer.conversationId, msg.offer);
      renderOffers();
      break;
    case 'assigned':
      state.offers.delete(msg.offer.conversationId);
      addConversation(msg.offer);
      renderOffers();
      break;
    case 'revoked':
      state.offers.delete(msg.conversationId);
      if (state.conversations.delete(msg.conversationId) && state.current === msg.conversationId) state.current = '';
      renderOffers();
      renderMine();
      renderConversation();
      if (msg.reason) notice(`Conversation moved: ${msg.reason}`);
      break;
    case 'message': {
      const conv = state.conversations.get(msg.conversationId);
      if (conv) {
        conv.items.set(msg.item.id, msg.item);
        if (msg.reference) conv.reference = msg.reference;
        conv.unread = state.current !== msg.conversationId;
        renderMine();
        if (state.current === msg.conversationId) renderTimeline(conv);
      }
      break;
    }
    case 'floor':
      renderFloor(msg);
      break;
  }
}

// --- offers ----------------------------------------------------------------------------

function badgeList(badges) {
  return el(
    'div',
    { class: 'badges' },
    badges.map((b) => el('span', { class: `badge badge-${b.kind}`, text: b.label })),
  );
}

function renderOffers() {
  const list = $('offers');
  list.replaceChildren();
  for (const o of state.offers.values()) {
    const countdown = el('span', { class: 'countdown', 'data-expires': o.expiresAt });
    list.append(
      el(
        'li',
        { 'data-conversation': o.conversationId, class: o.channel === 'voice' ? 'ringing' : '' },
        countdown,
        el('span', { class: 'channel', text: o.channel }),
        o.channel === 'voice' ? el('span', { class: 'ring', role: 'status', text: 'Incoming call — ringing' }) : null,
        el('span', { class: 'who-line', text: o.customerName }),
        badgeList(o.badges),
        o.subject ? el('div', { class: 'subject', text: o.subject }) : null,
        o.escalationNote ? el('div', { class: 'escalation-note', text: `Note from tier 1: ${o.escalationNote}` }) : null,
        o.callback ? el('div', { class: 'callback-line', text: o.callback }) : null,
        el(
          'div',
          { class: 'buttons' },
          el('button', { type: 'button', text: 'Accept', onclick: () => accept(o.conversationId) }),
          el('button', { type: 'button', class: 'secondary', text: 'Decline', onclick: () => decline(o.conversationId) }),
        ),
      ),
    );
  }
  $('no-offers').hidden = state.offers.size > 0;
  // Seen from another tab or window too.
  document.title = state.offers.size ? `(${state.offers.size}) Offer waiting — Agent desk` : 'Agent desk';
  tick();
}

function tick() {
  for (const c of document.querySelectorAll('[data-expires]')) {
    const left = Math.max(0, Math.ceil((Number(c.dataset.expires) - Date.now()) / 1000));
    c.textContent = Number(c.dataset.expires) ? `${left} s` : '';
  }
}
setInterval(tick, 250);

async function accept(id) {
  try {
    await api('/api/accept', { conversationId: id });
  } catch (err) {
    notice(err.message);
  }
}
async function decline(id) {
  try {
    await api('/api/decline', { conversationId: id });
    state.offers.delete(id);
    renderOffers();
  } catch (err) {
    notice(err.message);
  }
}

// --- conversations -----------------------------------------------------------------------

function addConversation(offer) {
  const existing = state.conversations.get(offer.conversationId);
  state.conversations.set(offer.conversationId, existing ? { ...existing, offer } : { offer, items: new Map(), card: null, pending: [], unread: false });
  if (!state.current) state.current = offer.conversationId;
  renderMine();
  if (state.current === offer.conversationId) {
    renderConversation();
    refresh(offer.conversationId);
  }
}

function renderMine() {
  const list = $('mine');
  list.replaceChildren();
  for (const [id, c] of state.conversations) {
    list.append(
      el(
        'li',
        {},
        el(
          'button',
          { type: 'button', 'aria-current': String(id === state.current), onclick: () => open(id) },
          el('span', { class: 'channel', text: c.offer.channel }),
          `${c.offer.customerName}${c.unread ? ' •' : ''}`,
          c.offer.subject ? el('span', { class: 'muted', text: ` — ${c.offer.subject}` }) : null,
        ),
      ),
    );
  }
}

function open(id) {
  state.current = id;
  const c = state.conversations.get(id);
  if (c) c.unread = false;
  renderMine();
  renderConversation();
  refresh(id);
}

async function refresh(id) {
  const c = state.conversations.get(id);
  if (!c) return;
  const q = new URLSearchParams({ conversationId: id });
  if (c.offer.customerId) q.set('customerId', c.offer.customerId);
  else if (c.offer.identity) {
    q.set('identityKind', String(c.offer.identity.kind));
    q.set('identity', c.offer.identity.value);
    if (c.offer.identity.namespace) q.set('identityNamespace', c.offer.identity.namespace);
  } else {
    $('conv-meta').textContent = 'The customer record is not known yet.';
    return;
  }
  try {
    const data = await api(`/api/conversation?${q}`);
    // Found by identity: keep the id, the cheaper look-up from now on.
    if (!c.offer.customerId && data.card) c.offer.customerId = data.card.customerId;
    for (const item of data.timeline) {
      const seen = c.items.get(item.id);
      if (!seen || item.attachments.length >= seen.attachments.length)
        c.items.set(item.id, seen && seen.attachments.length ? { ...item, attachments: seen.attachments } : item);
    }
    const sent = new Set(data.timeline.filter((i) => i.kind === 'out').map((i) => i.text));
    c.pending = c.pending.filter((p) => !sent.has(p.text));
    c.card = data.card;
    c.loadedAt = Date.now();
    if (state.current === id) {
      renderTimeline(c);
      renderCard(c.card);
    }
  } catch (err) {
    if (state.current === id) $('conv-meta').textContent = `History not available: ${err.message}`;
  }
}
// The record is a projection of events, a moment behind: the open conversation is read again
// soon while something is on its way (a reply, a first load), otherwise every 30 s. Each read
// is audited by customer-record, so the desk does not poll faster than it needs to.
setInterval(() => {
  const c = state.conversations.get(state.current);
  if (!c || document.visibilityState !== 'visible') return;
  if (c.pending.length || !c.card || Date.now() - (c.loadedAt || 0) > 30000) refresh(state.current);
}, 4000);

function renderConversation() {
  const c = state.conversations.get(state.current);
  $('conversation').hidden = !c;
  $('customer').hidden = !c;
  $('placeholder').hidden = Boolean(c);
  if (!c) return;
  const o = c.offer;
  $('conv-title').textContent = `${o.customerName}${o.subject ? ` — ${o.subject}` : ''}`;
  $('conv-meta').textContent = `${o.channel} · conversation ${o.conversationId}`;
  $('reply-channel').textContent = `(answers by ${o.channel})`;
  $('reply-files-row').hidden = o.channel !== 'email';
  const note = $('escalation-note');
  note.hidden = !o.escalationNote;
  note.textContent = o.escalationNote ? `Note from tier 1: ${o.escalationNote}` : '';
  const callback = $('callback-line');
  callback.hidden = !o.callback;
  callback.textContent = o.callback || '';
  renderTimeline(c);
  renderCard(c.card);
  if (window.renderCallControls) window.renderCallControls(c);
  if (window.renderPromise) window.renderPromise(c);
  if (window.renderReplyWindow) window.renderReplyWindow(c);
}

/** A file the customer sent: a download through the desk, which checks it may be opened; never shown inline. */
function attachmentLink(conversationId, a) {
  if (!a.ref) return a.name;
  const q = new URLSearchParams({ conversationId, ref: a.ref });
  return el('a', { class: 'attachment', href: `/api/attachment?${q}`, download: a.name, rel: 'noopener', text: a.name });
}

// A player is kept across redraws of the timeline, so a recording being heard is not cut off.
const players = new Map();

/** A recorded call's player, its media through the desk (which checks who may hear it); a supervisor's reason goes with it. */
function recordingPlayer(conversationId, r, reason) {
  const key = `${conversationId}:${r.sid}`;
  let player = players.get(key);
  if (!player) {
    const q = new URLSearchParams({ conversationId, recordingSid: r.sid, ...(reason ? { reason } : {}) });
    player = el('audio', {
      class: 'recording',
      controls: '',
      preload: 'metadata',
      src: `/api/recording?${q}`,
      'aria-label': `Call recording, ${r.seconds} seconds`,
    });
    players.set(key, player);
  }
  return player;
}

function renderTimeline(c) {
  const items = [...c.items.values()].sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
  const list = $('timeline');
  list.replaceChildren(
    ...items.map((i) =>
      el(
        'li',
        { class: i.kind },
        el('span', {
          class: 'meta',
          text: `${i.kind === 'in' ? 'Customer' : i.kind === 'out' ? (i.agentId === state.me?.id ? 'You' : `Agent ${i.agentId}`) : 'Event'} · ${i.channel} · ${fmtTime(i.at)}`,
        }),
        i.senderWarning ? el('div', { class: 'sender-warning', role: 'note', text: i.senderWarning }) : null,
        i.onBehalf ? el('div', { class: 'on-behalf', role: 'note', text: i.onBehalf }) : null,
        i.subject ? el('span', { class: 'subject', text: i.subject }) : null,
        i.text || (i.kind === 'event' ? i.detail : ''),
        i.kind !== 'event' && i.detail && !i.attachments.length ? el('div', { class: 'attachments', text: i.detail }) : null,
        i.attachments.length
          ? el(
              'ul',
              { class: 'attachments' },
              i.attachments.map((a) => el('li', {}, 'Attachment: ', attachmentLink(c.offer.conversationId, a), ` (${a.contentType}, ${a.size})`)),
            )
          : null,
        i.recording ? recordingPlayer(c.offer.conversationId, i.recording) : null,
      ),
    ),
    ...c.pending.map((p) =>
      el('li', { class: 'out pending' }, el('span', { class: 'meta', text: p.sent ? 'Sent · on its way to the record' : 'Sending…' }), p.text),
    ),
  );
  list.scrollTop = list.scrollHeight;
}

function renderCard(card) {
  // The card comes after the view is first drawn: the verified identities to write to come with it.
  if (window.renderWriteFirst) window.renderWriteFirst(card);
  if (!card) {
    $('card-name').textContent = 'Customer record loading…';
    $('card-name-note').hidden = true;
    for (const id of ['card-badges', 'card-identities', 'card-claims', 'card-flags', 'card-representatives', 'card-recent']) $(id).replaceChildren();
    $('card-representatives-box').hidden = true;
    $('card-account-box').hidden = true;
    $('card-count').textContent = '';
    return;
  }
  $('card-name').textContent = card.name;
  $('card-name-note').textContent = card.nameNote;
  $('card-name-note').hidden = !card.nameNote;
  $('card-badges').replaceChildren(...badgeList(card.badges).childNodes);
  $('card-identities').replaceChildren(...card.identities.map((i) => el('li', { class: 'verified', text: i.label })));
  // What the customer only typed: shown as a claim, in words, never as one of their identities.
  $('card-claims').replaceChildren(...card.claims.map((c) => el('li', { class: 'claim', text: c.label })));
  $('card-claims-box').hidden = card.claims.length === 0;
  $('card-flags').replaceChildren(
    ...card.flags.map((f) =>
      el('li', { class: f.on ? 'flag-on' : 'flag-off', text: `${f.label}: ${f.on ? 'yes' : 'no'} — ${f.reason}${f.source ? ` (${f.source})` : ''}` }),
    ),
  );
  // Who may speak for the customer: names set as text, so markup in them stays text.
  $('card-representatives').replaceChildren(...card.representatives.map((r) => el('li', { class: 'representative', text: r.label })));
  $('card-representatives-box').hidden = card.representatives.length === 0;
  $('card-account-box').hidden = !card.account;
  $('card-account').textContent = card.account
    ? `${card.account.name}${card.account.managerAgentId ? ` · account manager ${card.account.managerAgentId}` : ''}${card.account.vip ? ' · VIP' : ''}${card.account.institutional ? ' · institutional' : ''}`
    : '';
  $('card-count').textContent = `(${card.conversationsLast90Days} in 90 days)`;
  $('card-recent').replaceChildren(
    ...card.recent.map((r) =>
      el('li', {}, el('span', { class: 'channel', text: r.channel }), `${r.subject || '(no subject)'} · ${r.status} · ${fmtTime(r.startedAt)}`),
    ),
  );
}

function forCurrent(run) {
  return async (e) => {
    e.preventDefault();
    const id = state.current;
    if (!id) return;
    try {
      await run(id);
    } catch (err) {
      notice(err.message);
    }
  };
}

$('reply-form').addEventListener(
  'submit',
  forCurrent(async (id) => {
    const text = $('reply-text').value.trim();
    if (!text) return;
    const c = state.conversations.get(id);
    const pending = { text, sent: false };
    c.pending.push(pending);
    renderTimeline(c);
    try {
      const files = c.offer.channel === 'email' ? [...$('reply-files').files] : [];
      const attachments = [];
      for (const file of files) attachments.push(await keepReplyFile(file));
      await api('/api/reply', { conversationId: id, text, attachments });
      pending.sent = true;
      if (state.current === id) renderTimeline(c);
      $('reply-text').value = '';
      $('reply-files').value = '';
      setTimeout(() => refresh(id), 1500);
    } catch (err) {
      c.pending = c.pending.filter((p) => p.text !== text);
      renderTimeline(c);
      throw err;
    }
  }),
);

function closeConversation(id, message) {
  state.conversations.delete(id);
  if (state.current === id) state.current = state.conversations.keys().next().value || '';
  renderMine();
  renderConversation();
  if (state.current) refresh(state.current);
  notice(message);
}

$('escalate-form').addEventListener(
  'submit',
  forCurrent(async (id) => {
    await api('/api/escalate', { conversationId: id, note: $('escalate-note').value });
    $('escalate-note').value = '';
    closeConversation(id, 'Escalated to the experts.');
  }),
);
$('handback-form').addEventListener(
  'submit',
  forCurrent(async (id) => {
    await api('/api/hand-back', { conversationId: id, note: $('handback-note').value });
    $('handback-note').value = '';
    closeConversation(id, 'Handed back to tier 1.');
  }),
);
$('transfer-form').addEventListener(
  'submit',
  forCurrent(async (id) => {
    const to = $('transfer-to').value.trim();
    await api('/api/transfer', to.includes('/') ? { conversationId: id, toQueue: to } : { conversationId: id, toAgentId: to });
    $('transfer-to').value = '';
    closeConversation(id, `Transferred to ${to}.`);
  }),
);
$('resolve-form').addEventListener(
  'submit',
  forCurrent(async (id) => {
    await api('/api/resolve', { conversationId: id, disposition: $('resolve-disposition').value });
    closeConversation(id, 'Resolved.');
  }),
);

// --- supervisor ---------------------------------------------------------------------------

/** Reading the customer of a low score starts from the conversation, with the reason filled in. */
function followUp(u) {
  $('lookup-conversation').value = u.conversationId;
  if (!$('lookup-reason').value) $('lookup-reason').value = `low survey score (${u.score}/5) follow-up`;
  $('lookup-reason').focus();
}

function renderFloor(f) {
  $('floor-at').textContent = `updated ${new Date(f.at).toLocaleTimeString()}`;
  $('queues').tBodies[0].replaceChildren(
    ...f.queues.map((q) =>
      el(
        'tr',
        { 'data-queue': q.queue },
        el('td', { text: q.queue }),
        el('td', { text: String(q.waiting) }),
        el('td', { text: q.oldestWait }),
        el('td', { text: `${q.serviceLevel} %` }),
        el('td', { text: q.estimatedWait }),
        el('td', { text: String(q.agentsStaffed) }),
        el('td', { text: String(q.agentsNeeded) }),
      ),
    ),
  );
  $('agents').tBodies[0].replaceChildren(
    ...f.agents.map((a) =>
      el(
        'tr',
        { 'data-agent': a.agentId },
        el('td', { text: `${a.name} (${a.agentId})` }),
        el('td', { text: String(a.tier) }),
        el('td', { class: `presence-${a.presence}`, text: a.presence }),
        el('td', { text: `${a.active}/${a.capacity}` }),
        el('td', {
          text: a.load
            .filter((l) => l.capacity)
            .map((l) => `${l.channel} ${l.active}/${l.capacity}`)
            .join(' · '),
        }),
        el('td', { text: a.skills.join(', ') }),
      ),
    ),
  );
  $('follow-ups').tBodies[0].replaceChildren(
    ...f.followUps.map((u) =>
      el(
        'tr',
        { 'data-conversation': u.conversationId },
        el('td', { text: `${u.score}/5` }),
        el(
          'td',
          {},
          el('button', {
            type: 'button',
            class: 'link',
            text: u.reference ? `${u.reference} (${u.conversationId})` : u.conversationId,
            onclick: () => followUp(u),
          }),
        ),
        el('td', { text: u.channel }),
        el('td', { text: u.queue }),
        el('td', { text: u.agentId }),
        el('td', { text: u.answeredAt ? new Date(u.answeredAt).toLocaleString() : '' }),
      ),
    ),
  );
  const select = $('reassign-agent');
  const chosen = select.value;
  const ids = f.agents.map((a) => a.agentId).join(',');
  if (select.dataset.ids !== ids) {
    select.dataset.ids = ids;
    select.replaceChildren(...f.agents.map((a) => el('option', { value: a.agentId, text: `${a.name} (${a.agentId})` })));
    if (chosen) select.value = chosen;
  }
}

$('reassign-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    await api('/api/reassign', { conversationId: $('reassign-conversation').value.trim(), toAgentId: $('reassign-agent').value });
    notice('Reassigned.');
    $('reassign-conversation').value = '';
  } catch (err) {
    notice(err.message);
  }
});

$('lookup-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const q = new URLSearchParams({ conversationId: $('lookup-conversation').value.trim(), reason: $('lookup-reason').value.trim() });
  try {
    const data = await api(`/api/conversation?${q}`);
    $('lookup-result').hidden = false;
    $('lookup-name').textContent = data.card ? data.card.name : 'No customer record';
    $('lookup-flags').replaceChildren(...(data.card ? data.card.flags : []).map((f) => el('li', { text: `${f.label}: ${f.on ? 'yes' : 'no'} — ${f.reason}` })));
    $('lookup-timeline').replaceChildren(...data.timeline.map((i) => el('li', { class: i.kind, text: i.text || i.detail || '' })));
  } catch (err) {
    notice(err.message);
  }
});

// --- keyboard -----------------------------------------------------------------------------

document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) {
    if (e.key === 'Escape') t.blur();
    return;
  }
  if (!state.me || $('desk-screen').hidden) return;
  const first = state.offers.keys().next().value;
  if (e.key === 'a' && first) {
    e.preventDefault();
    accept(first);
  } else if (e.key === 'd' && first) {
    e.preventDefault();
    decline(first);
  } else if (e.key === 'r' && state.current) {
    e.preventDefault();
    $('reply-text').focus();
  } else if ((e.key === 'j' || e.key === 'k') && state.conversations.size) {
    e.preventDefault();
    const ids = [...state.conversations.keys()];
    const at = ids.indexOf(state.current);
    open(ids[(at + (e.key === 'j' ? 1 : ids.length - 1)) % ids.length]);
  }
});

// --- start --------------------------------------------------------------------------------

api('/api/me').then(showDesk, () => showSignIn(''));
