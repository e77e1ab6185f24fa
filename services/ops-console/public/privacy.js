// The data-protection officer's page. What the API answers is put on the page with textContent only.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);

  const api = window.OpsApi.api;

  function showApp(session) {
    window.OpsApi.setCsrfToken(session.csrfToken);
    $('who-name').textContent = session.name;
    $('who-role').textContent = session.role;
    $('who').hidden = false;
    $('sign-in').hidden = true;
    $('app').hidden = false;
  }

  function request() {
    if (!$('request-form').reportValidity() || !$('customer-form').reportValidity()) return null;
    return { customerId: $('customer-id').value.trim(), reason: $('reason').value.trim() };
  }

  function cell(row, text) {
    const td = document.createElement('td');
    td.textContent = text;
    row.append(td);
    return td;
  }

  function showFound(found) {
    const rows = $('found-rows');
    rows.replaceChildren();
    for (const c of found.customers) {
      const tr = document.createElement('tr');
      cell(tr, c.customerId);
      cell(tr, c.displayName);
      cell(tr, c.maskedIdentities.join(', '));
      cell(tr, c.lastContactAt ? new Date(c.lastContactAt).toLocaleString() : '–');
      cell(tr, String(c.conversationCount));
      const pick = document.createElement('button');
      pick.type = 'button';
      pick.className = 'pick';
      pick.textContent = 'Pick';
      pick.addEventListener('click', () => {
        $('customer-id').value = c.customerId;
        $('erased').hidden = true;
      });
      cell(tr, '').append(pick);
      rows.append(tr);
    }
    $('found').hidden = found.customers.length === 0;
    $('find-none').hidden = found.customers.length > 0;
    $('found-truncated').hidden = !found.truncated;
  }

  // Every look-up is audited with the request's reference, as a read of each customer found.
  $('find-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!$('request-form').reportValidity()) return;
    $('find-error').textContent = '';
    const params = new URLSearchParams({ [$('find-by').value]: $('find-value').value.trim(), reason: $('reason').value.trim() });
    try {
      showFound(await api(`/api/privacy/customers?${params}`));
    } catch (err) {
      $('found').hidden = true;
      $('find-none').hidden = true;
      $('find-error').textContent = err.message;
    }
  });

  $('sign-in-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('/api/sign-in', { method: 'POST', body: { id: $('sign-in-id').value, password: $('sign-in-password').value } });
      $('sign-in-password').value = '';
      showApp(await api('/api/privacy/session'));
    } catch (err) {
      $('sign-in-error').textContent = err.message;
    }
  });

  // A download the browser saves: the server answers with Content-Disposition: attachment.
  $('export').addEventListener('click', async () => {
    const r = request();
    if (!r) return;
    $('request-error').textContent = '';
    const path = `/api/privacy/customers/${encodeURIComponent(r.customerId)}/export?reason=${encodeURIComponent(r.reason)}`;
    const res = await fetch(path, { credentials: 'same-origin' });
    if (!res.ok) {
      const data = await res.json().catch(() => ({}));
      $('request-error').textContent = data.error || `HTTP ${res.status}`;
      return;
    }
    const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') || '');
    const link = document.createElement('a');
    link.href = URL.createObjectURL(await res.blob());
    link.download = name ? name[1] : 'customer-export.json';
    document.body.appendChild(link);
    link.click();
    link.remove();
  });

  $('erase').addEventListener('click', async () => {
    const r = request();
    if (!r) return;
    if (!window.confirm(`Erase customer ${r.customerId}? This cannot be undone.`)) return;
    $('request-error').textContent = '';
    try {
      const erased = await api(`/api/privacy/customers/${encodeURIComponent(r.customerId)}/erase`, { method: 'POST', body: { reason: r.reason } });
      const list = $('erased-counts');
      list.replaceChildren();
      const rows = [['erasure', erased.erasureId], ['hashed key', erased.subjectKey], ...Object.entries(erased.counts || {})];
      for (const [k, v] of rows) {
        const dt = document.createElement('dt');
        dt.textContent = k;
        const dd = document.createElement('dd');
        dd.textContent = String(v);
        list.append(dt, dd);
      }
      $('erased').hidden = false;
    } catch (err) {
      $('request-error').textContent = err.message;
    }
  });

  api('/api/privacy/session').then(showApp, () => {
    $('sign-in').hidden = false;
  });
})();
