// The promise on a long case in the conversation view: what the customer was promised and where
// it stands, a form to set or update it (routing sends the customer the status) and "Mark kept".
// Everything shown is put in with textContent.
/* global $, api, notice, state, forCurrent */
'use strict';

const STATE_WORDS = { open: 'on track', warned: 'due soon', slipped: 'late: set a new date', kept: 'kept' };

function promiseLine(p) {
  if (!p) return 'No promise on this conversation.';
  const due = new Date(p.dueAt).toLocaleString([], { weekday: 'short', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  return `${p.milestone} — expected by ${due}${p.cost ? ` · estimated ${p.cost}` : ''} · ${STATE_WORDS[p.state] || p.state}`;
}

function showPromise(p, id = state.current) {
  const c = state.conversations.get(id);
  if (c) c.promise = p;
  if (state.current !== id) return;
  const line = $('promise-current');
  line.textContent = promiseLine(p);
  line.dataset.state = p ? p.state : '';
  $('promise-kept').hidden = !p || p.state === 'kept';
}

async function loadPromise(id) {
  if (!id) return;
  try {
    const { promise } = await api(`/api/promise?conversationId=${encodeURIComponent(id)}`);
    showPromise(promise, id);
  } catch (err) {
    if (state.current === id) $('promise-current').textContent = `Promise not available: ${err.message}`;
  }
}

$('promise-form').addEventListener(
  'submit',
  forCurrent(async (id) => {
    const due = $('promise-due').value;
    const body = {
      conversationId: id,
      milestone: $('promise-milestone').value,
      dueAt: due ? new Date(due).toISOString() : '',
      cost: $('promise-cost').value,
      currency: $('promise-currency').value,
    };
    const { promise, statusText } = await api('/api/promise', body);
    showPromise(promise, id);
    notice(`Sent to the customer: ${statusText}`);
  }),
);
$('promise-kept').addEventListener(
  'click',
  forCurrent(async (id) => {
    const { promise } = await api('/api/promise', { conversationId: id, kept: true });
    showPromise(promise, id);
    notice('Promise marked kept.');
  }),
);

// The view is drawn again on every update; the promise is read again at most every 10 s.
window.renderPromise = (c) => {
  if (c.promiseReadAt && Date.now() - c.promiseReadAt < 10_000) return showPromise(c.promise || null);
  c.promiseReadAt = Date.now();
  loadPromise(c.offer.conversationId);
};
