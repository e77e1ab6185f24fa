/* Embeddable web chat widget. No framework; every piece of text is set with textContent.
   Embed: <script src="https://chat.example.com/widget.js" defer></script>
   Optional attributes on the script tag: data-title, data-server (ws base URL). */
(function () {
  'use strict';
  var script = document.currentScript;
  var base = new URL(script && script.src ? script.src : location.href);
  var wsUrl = (script && script.getAttribute('data-server')) || (base.protocol === 'https:' ? 'wss://' : 'ws://') + base.host + '/chat';
  var title = (script && script.getAttribute('data-title')) || 'Chat with us';
  var KEY = 'ccChat:' + base.host;
  var state = load();
  var ws = null;
  var retry = 0;
  var sending = {};
  var firstConnect = true;

  function load() {
    try {
      var s = JSON.parse(localStorage.getItem(KEY) || '{}');
    } catch {
      s = {};
    }
    return { token: s.token || null, lastSeq: s.lastSeq || 0, outbox: s.outbox || [], seen: s.seen || {} };
  }
  function save() {
    try {
      localStorage.setItem(KEY, JSON.stringify({ token: state.token, lastSeq: state.lastSeq, outbox: state.outbox }));
    } catch {
      /* private mode: session only */
    }
  }
  function showClosed(closed) {
    closedInfo.textContent = '';
    closedInfo.hidden = !closed;
    if (!closed) return;
    if (closed.hours) closedInfo.appendChild(document.createTextNode('Opening hours: ' + closed.hours + '. '));
    if (closed.email) {
      closedInfo.appendChild(document.createTextNode('You can also go on by email: '));
      var link = el('a', { href: 'mailto:' + closed.email, 'data-ccw': 'closed-email' }, closed.email);
      closedInfo.appendChild(link);
      closedInfo.appendChild(document.createTextNode(' and we will answer you there.'));
    }
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = String(text);
    return e;
  }

  var css = el('style', {});
  css.textContent =
    '.ccw-btn{position:fixed;right:1rem;bottom:1rem;z-index:2147483000;font:16px system-ui,sans-serif;padding:.75rem 1rem;border-radius:2rem;border:0;background:#1a56db;color:#fff;cursor:pointer}' +
    '.ccw-btn:focus-visible,.ccw-panel button:focus-visible,.ccw-panel input:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}' +
    '.ccw-panel{position:fixed;right:1rem;bottom:4.5rem;z-index:2147483000;width:22rem;max-width:calc(100vw - 2rem);height:28rem;max-height:calc(100vh - 6rem);display:flex;flex-direction:column;background:#fff;color:#111;border:1px solid #bbb;border-radius:.5rem;box-shadow:0 4px 16px rgba(0,0,0,.2);font:16px/1.4 system-ui,sans-serif}' +
    '.ccw-panel[hidden]{display:none}.ccw-head{display:flex;justify-content:space-between;align-items:center;padding:.5rem .75rem;background:#1a56db;color:#fff;border-radius:.5rem .5rem 0 0}' +
    '.ccw-head h2{font-size:1rem;margin:0}.ccw-head button{background:transparent;color:#fff;border:0;font-size:1.25rem;cursor:pointer}' +
    '.ccw-status{font-size:.875rem;padding:.25rem .75rem;background:#eef2ff;color:#1e3a8a}' +
    '.ccw-log{flex:1;overflow-y:auto;padding:.5rem .75rem;margin:0;list-style:none}.ccw-log li{margin:.25rem 0;padding:.375rem .5rem;border-radius:.375rem;max-width:85%;overflow-wrap:anywhere;white-space:pre-wrap}' +
    '.ccw-visitor{background:#dbeafe;margin-left:auto!important}.ccw-agent{background:#f3f4f6}.ccw-system{background:transparent;color:#555;font-style:italic;max-width:100%!important}.ccw-pending{opacity:.6}' +
    '.ccw-form{display:flex;gap:.5rem;padding:.5rem;border-top:1px solid #ddd}.ccw-form input{flex:1;min-width:0;font-size:16px;padding:.5rem;border:1px solid #888;border-radius:.25rem}' +
    '.ccw-form button,.ccw-survey button{font-size:16px;padding:.5rem .75rem;border-radius:.25rem;border:1px solid #1a56db;background:#1a56db;color:#fff;cursor:pointer}' +
    '.ccw-verify{padding:.25rem .75rem;border-top:1px solid #ddd;font-size:.875rem}.ccw-verify form{display:flex;gap:.5rem;align-items:center;margin:.25rem 0}.ccw-verify form[hidden]{display:none}' +
    '.ccw-verify input{flex:1;min-width:0;font-size:16px;padding:.375rem;border:1px solid #888;border-radius:.25rem}.ccw-verify button{font-size:.875rem;padding:.375rem .5rem;border-radius:.25rem;border:1px solid #1a56db;background:#fff;color:#1a56db;cursor:pointer}' +
    '.ccw-survey{display:flex;gap:.25rem;padding:.25rem .75rem;flex-wrap:wrap}.ccw-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}.ccw-error{color:#b91c1c}';
  document.head.appendChild(css);

  var button = el('button', { type: 'button', class: 'ccw-btn', 'aria-expanded': 'false', 'aria-controls': 'ccw-panel' }, title);
  var panel = el('section', { id: 'ccw-panel', class: 'ccw-panel', role: 'dialog', 'aria-label': title, hidden: '' });
  var head = el('div', { class: 'ccw-head' });
  head.appendChild(el('h2', {}, title));
  var close = el('button', { type: 'button', 'aria-label': 'Close chat' }, '\u00d7');
  head.appendChild(close);
  var status = el('p', { class: 'ccw-status', role: 'status', 'aria-live': 'polite', 'data-ccw': 'status' }, 'Connecting\u2026');
  // While the queue is closed: the hours, and an address to go on by email instead.
  var closedInfo = el('p', { class: 'ccw-status', 'data-ccw': 'closed', hidden: '' });
  var log = el('ol', { class: 'ccw-log', 'aria-live': 'polite', 'aria-label': 'Conversation', 'data-ccw': 'log' });
  var survey = el('div', { class: 'ccw-survey', role: 'group', 'aria-label': 'Rate this chat from 1 to 5', hidden: '' });
  // Proving an email: a code is mailed to the address and typed here. Until then the address
  // is only what the visitor says, and the agent sees it that way.
  var verify = el('div', { class: 'ccw-verify', 'data-ccw': 'verify' });
  var verifyOpen = el('button', { type: 'button', 'data-ccw': 'verify-open' }, 'Verify your email');
  var emailForm = el('form', { hidden: '', 'aria-label': 'Email to verify' });
  var emailInput = el('input', {
    id: 'ccw-verify-email',
    type: 'email',
    autocomplete: 'email',
    maxlength: '254',
    'aria-label': 'Your email address',
    placeholder: 'you@example.com',
  });
  emailForm.appendChild(emailInput);
  emailForm.appendChild(el('button', { type: 'submit' }, 'Send code'));
  var codeForm = el('form', { hidden: '', 'aria-label': 'Confirm the code' });
  var codeInput = el('input', {
    id: 'ccw-verify-code',
    type: 'text',
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    maxlength: '9',
    'aria-label': 'Code from the mail',
    placeholder: '6-digit code',
  });
  codeForm.appendChild(codeInput);
  codeForm.appendChild(el('button', { type: 'submit' }, 'Confirm'));
  var verifyStatus = el('p', { role: 'status', 'aria-live': 'polite', 'data-ccw': 'verify-status', style: 'margin:.25rem 0' });
  verify.appendChild(verifyOpen);
  verify.appendChild(emailForm);
  verify.appendChild(codeForm);
  verify.appendChild(verifyStatus);
  var form = el('form', { class: 'ccw-form' });
  var label = el('label', { for: 'ccw-input', class: 'ccw-sr' }, 'Your message');
  var input = el('input', { id: 'ccw-input', type: 'text', autocomplete: 'off', maxlength: '4000', placeholder: 'Type a message\u2026' });
  var send = el('button', { type: 'submit' }, 'Send');
  // Files go over HTTP with the session's token, not in a WebSocket frame; the service checks size, type and rate.
  var fileInput = el('input', {
    type: 'file',
    class: 'ccw-sr',
    id: 'ccw-file',
    accept: 'image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain',
  });
  var attach = el('button', { type: 'button', 'aria-label': 'Send a file', 'data-ccw': 'attach' }, 'File');
  form.appendChild(label);
  form.appendChild(fileInput);
  form.appendChild(attach);
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(head);
  panel.appendChild(status);
  panel.appendChild(closedInfo);
  panel.appendChild(log);
  panel.appendChild(survey);
  panel.appendChild(verify);
  panel.appendChild(form);
  document.body.appendChild(button);
  document.body.appendChild(panel);

  function toggle(open) {
    panel.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    if (open) {
      input.focus();
      connect();
    } else button.focus();
  }
  button.addEventListener('click', function () {
    toggle(panel.hidden);
  });
  close.addEventListener('click', function () {
    toggle(false);
  });
  panel.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') toggle(false);
  });

  function addLine(cls, text, id) {
    var li = el('li', { class: cls }, text);
    if (id) li.setAttribute('data-id', id);
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
    return li;
  }
  function showEntry(f) {
    if (f.seq <= state.lastSeq && state.seen[f.seq]) return;
    state.seen[f.seq] = true;
    if (f.seq > state.lastSeq) {
      state.lastSeq = f.seq;
      save();
    }
    if (f.from === 'visitor') {
      var mine = f.clientMessageId && log.querySelector('[data-id="' + f.clientMessageId + '"]');
      if (mine) {
        mine.classList.remove('ccw-pending');
        return;
      }
      addLine('ccw-visitor', f.text);
    } else {
      addLine(f.from === 'agent' ? 'ccw-agent' : 'ccw-system', f.text);
    }
    if (f.kind === 'survey') showSurvey();
    if (f.kind === 'ended') status.textContent = 'The chat has ended.';
  }
  function showSurvey() {
    survey.textContent = '';
    survey.hidden = false;
    for (var i = 1; i <= 5; i++)
      (function (score) {
        var b = el('button', { type: 'button', 'aria-label': 'Rate ' + score + ' of 5' }, String(score));
        b.addEventListener('click', function () {
          transmit({ type: 'survey-answer', score: score });
          survey.hidden = true;
          addLine('ccw-system', 'Thank you for your rating.');
        });
        survey.appendChild(b);
      })(i);
  }
  function minutes(ms) {
    var m = Math.max(1, Math.round(ms / 60000));
    return m + (m === 1 ? ' minute' : ' minutes');
  }

  function transmit(frame) {
    if (ws && ws.readyState === 1) {
      ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }
  function flush() {
    state.outbox.forEach(function (m) {
      if (!sending[m.clientMessageId]) {
        sending[m.clientMessageId] = true;
        transmit({ type: 'message', clientMessageId: m.clientMessageId, text: m.text });
      }
    });
  }

  var VERIFY_ERRORS = { 'verification-limit': 1, 'no-code': 1, 'code-expired': 1, 'code-wrong': 1, 'too-many-tries': 1 };
  var verifying = false;
  verifyOpen.addEventListener('click', function () {
    verifyOpen.hidden = true;
    emailForm.hidden = false;
    emailInput.focus();
  });
  emailForm.addEventListener('submit', function (e) {
    e.preventDefault();
    var email = emailInput.value.trim();
    if (!email) return;
    verifying = true;
    verifyStatus.textContent = transmit({ type: 'verify-email', email: email }) ? 'Sending a code\u2026' : 'Not connected; try again in a moment.';
  });
  codeForm.addEventListener('submit', function (e) {
    e.preventDefault();
    var code = codeInput.value.replace(/[\s-]/g, '');
    if (!code) return;
    verifying = true;
    verifyStatus.textContent = transmit({ type: 'verify-code', code: code }) ? 'Checking\u2026' : 'Not connected; try again in a moment.';
  });
  function showVerified(email) {
    verifying = false;
    verifyOpen.hidden = true;
    emailForm.hidden = true;
    codeForm.hidden = true;
    verifyStatus.textContent = 'Your email ' + email + ' is verified.';
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    var id = Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
    state.outbox.push({ clientMessageId: id, text: text });
    save();
    addLine('ccw-visitor ccw-pending', text, id);
    input.value = '';
    flush();
  });

  attach.addEventListener('click', function () {
    fileInput.click();
  });
  fileInput.addEventListener('change', function () {
    var file = fileInput.files && fileInput.files[0];
    fileInput.value = '';
    if (!file) return;
    if (!state.token) return addLine('ccw-error', 'The chat is still connecting; send the file again in a moment.');
    var id = Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
    var line = addLine('ccw-visitor ccw-pending', 'Sending file: ' + file.name, id);
    fetch(base.origin + '/upload', {
      method: 'POST',
      headers: {
        authorization: 'Bearer ' + state.token,
        'content-type': file.type || 'application/octet-stream',
        'x-file-name': encodeURIComponent(file.name),
        'x-client-message-id': id,
      },
      body: file,
    })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error(body.error || 'the file was not sent');
          state.seen[body.seq] = true;
          line.textContent = 'Sent a file: ' + file.name;
          line.className = 'ccw-visitor';
        });
      })
      .catch(function (err) {
        line.textContent = 'Not sent (' + file.name + '): ' + err.message;
        line.className = 'ccw-error';
      });
  });

  function connect() {
    if (ws && ws.readyState <= 1) return;
    ws = new WebSocket(wsUrl);
    sending = {};
    ws.onopen = function () {
      // After a page load the log is empty: ask for the whole conversation; later, only what was missed.
      var hello = { type: 'hello', lastSeq: firstConnect ? 0 : state.lastSeq };
      firstConnect = false;
      if (state.token) hello.token = state.token;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = function (ev) {
      var f;
      try {
        f = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (f.type === 'welcome') {
        retry = 0;
        if (f.token !== state.token) {
          state.token = f.token;
          state.lastSeq = 0;
          save();
        }
        status.textContent = 'Connected. Reference ' + f.reference + '.';
        state.outbox.forEach(function (m) {
          if (!log.querySelector('[data-id="' + m.clientMessageId + '"]')) addLine('ccw-visitor ccw-pending', m.text, m.clientMessageId);
        });
        flush();
      } else if (f.type === 'ack') {
        state.outbox = state.outbox.filter(function (m) {
          return m.clientMessageId !== f.clientMessageId;
        });
        var li = log.querySelector('[data-id="' + f.clientMessageId + '"]');
        if (li) li.classList.remove('ccw-pending');
        state.seen[f.seq] = true;
        if (f.seq > state.lastSeq) state.lastSeq = f.seq;
        save();
      } else if (f.type === 'entry') {
        showEntry(f);
      } else if (f.type === 'wait') {
        showClosed(f.closed);
        status.textContent = f.closed
          ? f.closed.notice
          : (f.position ? 'You are number ' + f.position + ' in the queue. ' : '') + 'Estimated wait: about ' + minutes(f.estimatedWaitMs) + '.';
      } else if (f.type === 'typing') {
        status.textContent = 'The agent is typing\u2026';
      } else if (f.type === 'verification-sent') {
        verifying = false;
        codeForm.hidden = false;
        codeInput.value = '';
        codeInput.focus();
        verifyStatus.textContent = 'We sent a code to ' + f.email + '. Type it here; it works for ' + minutes(f.expiresInMs) + '.';
      } else if (f.type === 'verified') {
        showVerified(f.email);
      } else if (f.type === 'error') {
        if (VERIFY_ERRORS[f.code] || (verifying && f.code !== 'internal')) {
          verifying = false;
          verifyStatus.textContent = f.message;
          if (f.code === 'code-expired' || f.code === 'too-many-tries') {
            codeForm.hidden = true;
            emailForm.hidden = false;
          }
        } else if (f.clientMessageId) {
          // Not accepted: keep it in the outbox and send it again shortly.
          delete sending[f.clientMessageId];
          status.textContent = 'Message not sent yet; retrying\u2026';
          setTimeout(flush, 2000);
        } else status.textContent = f.message;
      }
    };
    ws.onclose = function (ev) {
      if (ev.code === 1008 && /token/.test(ev.reason || '')) {
        state.token = null;
        state.lastSeq = 0;
        save();
      }
      // 1013: the chat is busy (or this address has too many chats open); wait longer before trying again.
      var busy = ev.code === 1013;
      status.textContent = busy ? 'The chat is busy right now; trying again shortly\u2026' : 'Reconnecting\u2026';
      setTimeout(connect, Math.max(busy ? 15000 : 0, Math.min(30000, 500 * Math.pow(2, retry++))));
    };
  }

  window.ccChat = {
    open: function () {
      toggle(true);
    },
  };
})();
