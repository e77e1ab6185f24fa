// Canned answers in the desk: the picker in the reply box (`/` at the start, or Ctrl+/) and the
// dialog where each person keeps their own and supervisors the shared ones. Uses app.js's `$`,
// `el`, `api`, `notice` and `state`. Templates and names are put into the page as text only.
/* global $, el, api, notice, state, fmtTime */
'use strict';

const canned = { answers: [], active: 0, caret: 0, slash: false, conversationId: '', channel: '', editing: null, catalogue: null };

// --- the picker in the reply box ------------------------------------------------------------

async function openPicker(slash) {
  const c = state.conversations.get(state.current);
  if (!c) return;
  const box = $('reply-text');
  canned.caret = box.selectionStart;
  canned.slash = slash;
  canned.conversationId = state.current;
  canned.channel = c.offer.channel;
  try {
    const data = await api('/api/canned/fill', {
      conversationId: state.current,
      channel: c.offer.channel,
      customerName: c.card ? c.card.name : c.offer.customerName,
      reference: c.reference || '',
    });
    canned.answers = data.answers;
    canned.waitNote = data.waitNote;
  } catch (err) {
    notice(`Canned answers are not available: ${err.message}`);
    return;
  }
  canned.active = 0;
  $('canned-search').value = '';
  $('canned-picker').hidden = false;
  renderPicker();
  $('canned-search').focus();
}

function closePicker(refocus) {
  $('canned-picker').hidden = true;
  $('canned-search').removeAttribute('aria-activedescendant');
  if (refocus) $('reply-text').focus();
}

function matching() {
  const q = $('canned-search').value.trim().toLowerCase();
  return q ? canned.answers.filter((a) => a.name.toLowerCase().includes(q) || a.text.toLowerCase().includes(q)) : canned.answers;
}

function renderPicker() {
  const shown = matching();
  canned.active = Math.min(canned.active, Math.max(0, shown.length - 1));
  $('canned-list').replaceChildren(
    ...shown.map((a, i) =>
      el(
        'li',
        {
          id: `canned-option-${i}`,
          role: 'option',
          'aria-selected': String(i === canned.active),
          'data-canned': a.id,
          onmousedown: (e) => e.preventDefault(),
          onclick: () => insert(a),
        },
        el('span', { class: 'canned-name', text: `${a.name}${a.scope === 'shared' ? '' : ' (mine)'}` }),
        el('span', { class: 'canned-text', text: a.filled }),
      ),
    ),
  );
  const empty = $('canned-empty');
  empty.hidden = shown.length > 0;
  empty.textContent = canned.answers.length ? 'No canned answer matches.' : `No canned answer for ${canned.channel} yet: add one under “Canned answers”.`;
  const search = $('canned-search');
  if (shown.length) {
    search.setAttribute('aria-activedescendant', `canned-option-${canned.active}`);
    $(`canned-option-${canned.active}`).scrollIntoView({ block: 'nearest' });
  } else search.removeAttribute('aria-activedescendant');
}

/** Puts the filled text where the caret was (replacing the `/` typed to open the picker) and selects the first placeholder left to fill. */
function insert(answer) {
  const box = $('reply-text');
  const typed = box.value.slice(0, canned.caret);
  const before = canned.slash && typed.endsWith('/') ? typed.slice(0, -1) : typed;
  const after = box.value.slice(canned.caret);
  box.value = `${before}${answer.filled}${after}`;
  closePicker(true);
  const at = box.value.indexOf('{{', before.length);
  if (at >= 0 && at < before.length + answer.filled.length) box.setSelectionRange(at, box.value.indexOf('}}', at) + 2);
  else box.setSelectionRange(before.length + answer.filled.length, before.length + answer.filled.length);
  hint(answer);
}

function hint(answer) {
  const parts = [];
  if (answer.missing.length)
    parts.push(
      `Fill in: ${answer.missing.map((m) => `{{${m}}}`).join(', ')}${answer.missing.includes('wait') && canned.waitNote ? ` (${canned.waitNote})` : ''}`,
    );
  if (answer.sms)
    parts.push(
      `${answer.sms.segments} SMS segment${answer.sms.segments === 1 ? '' : 's'} (${answer.sms.encoding})${answer.sms.tooLong ? ' — longer than 2 segments: shorten it' : ''}`,
    );
  $('canned-hint').textContent = parts.join(' · ');
}

$('reply-text').addEventListener('keydown', (e) => {
  const box = e.target;
  const atStart = box.selectionStart === box.selectionEnd && (box.selectionStart === 0 || box.value[box.selectionStart - 1] === '\n');
  if (e.key === '/' && e.ctrlKey) {
    e.preventDefault();
    openPicker(false);
  } else if (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && atStart) {
    // The `/` is typed, so the agent sees it; inserting an answer replaces it.
    setTimeout(() => openPicker(true), 0);
  }
});
$('reply-text').addEventListener('input', () => {
  if (!$('reply-text').value) $('canned-hint').textContent = '';
});

$('canned-search').addEventListener('input', () => {
  canned.active = 0;
  renderPicker();
});
$('canned-search').addEventListener('keydown', (e) => {
  const shown = matching();
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    e.preventDefault();
    if (shown.length) canned.active = (canned.active + (e.key === 'ArrowDown' ? 1 : shown.length - 1)) % shown.length;
    renderPicker();
  } else if (e.key === 'Enter') {
    e.preventDefault();
    if (shown[canned.active]) insert(shown[canned.active]);
  } else if (e.key === 'Escape') {
    e.preventDefault();
    e.stopPropagation();
    closePicker(true);
  } else if (e.key === 'Tab') closePicker(false);
});
$('canned-search').addEventListener('blur', () => setTimeout(() => document.activeElement !== $('canned-search') && closePicker(false), 0));
$('reply-form').addEventListener('submit', () => {
  $('canned-hint').textContent = '';
});

// --- the dialog: my answers and, for supervisors, the shared ones -----------------------------

async function openCatalogue() {
  try {
    canned.catalogue = await api('/api/canned');
  } catch (err) {
    notice(err.message);
    return;
  }
  const cat = canned.catalogue;
  $('canned-placeholders').textContent = cat.placeholders.map((p) => `{{${p.name}}} ${p.means}`).join(' · ');
  $('canned-scope').querySelector('option[value="shared"]').disabled = !cat.managesShared;
  $('canned-channels').replaceChildren(
    el('legend', { text: 'Channels' }),
    ...cat.channels.map((ch) => el('label', {}, el('input', { type: 'checkbox', value: ch, name: 'canned-channel' }), ch)),
  );
  renderCatalogue();
  editAnswer(null);
  const dialog = $('canned-dialog');
  if (!dialog.open) dialog.showModal();
}

function renderCatalogue() {
  $('canned-table').tBodies[0].replaceChildren(
    ...canned.catalogue.answers.map((a) =>
      el(
        'tr',
        { 'data-canned': a.id },
        el('td', { text: a.name }),
        el('td', { text: a.scope === 'shared' ? 'everyone' : 'me' }),
        el('td', { text: a.channels.join(', ') }),
        el('td', { text: a.text }),
        el('td', { text: `${a.updatedBy} · ${fmtTime(a.updatedAt)}` }),
        el(
          'td',
          {},
          a.mayChange ? el('button', { type: 'button', class: 'secondary', text: 'Edit', 'aria-label': `Edit ${a.name}`, onclick: () => editAnswer(a) }) : null,
          a.mayChange
            ? el('button', { type: 'button', class: 'secondary', text: 'Delete', 'aria-label': `Delete ${a.name}`, onclick: () => deleteAnswer(a) })
            : null,
        ),
      ),
    ),
  );
}

function editAnswer(a) {
  canned.editing = a;
  $('canned-form-title').textContent = a ? `Edit “${a.name}”` : 'New canned answer';
  $('canned-name').value = a ? a.name : '';
  $('canned-text').value = a ? a.text : '';
  $('canned-scope').value = a ? a.scope : 'personal';
  $('canned-scope').disabled = Boolean(a);
  for (const box of document.querySelectorAll('input[name="canned-channel"]')) box.checked = a ? a.channels.includes(box.value) : box.value !== 'api';
  $('canned-error').textContent = '';
  if (a) $('canned-name').focus();
}

async function deleteAnswer(a) {
  if (!confirm(`Delete the canned answer “${a.name}”?`)) return;
  try {
    await api('/api/canned/delete', { id: a.id });
    await openCatalogue();
  } catch (err) {
    $('canned-error').textContent = err.message;
  }
}

$('canned-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const content = {
    name: $('canned-name').value,
    text: $('canned-text').value,
    channels: [...document.querySelectorAll('input[name="canned-channel"]:checked')].map((b) => b.value),
  };
  try {
    const a = canned.editing;
    await api(
      a ? '/api/canned/update' : '/api/canned/create',
      a ? { ...content, id: a.id, version: a.version } : { ...content, scope: $('canned-scope').value },
    );
    await openCatalogue();
    notice(a ? 'Canned answer saved.' : 'Canned answer added.');
  } catch (err) {
    $('canned-error').textContent = err.message;
  }
});
$('canned-new').addEventListener('click', () => editAnswer(null));
$('canned-close').addEventListener('click', () => $('canned-dialog').close());
$('canned-open').addEventListener('click', openCatalogue);
