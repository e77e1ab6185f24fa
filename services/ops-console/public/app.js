// The ops console page. Every piece of event data is put on the page with textContent (or an
// attribute set through the DOM), never as markup; the Content-Security-Policy forbids inline script.
'use strict';
(function () {
  const TOPICS = ['cc.contact.inbound.v1', 'cc.conversation.events.v1', 'cc.agent.state.v1', 'cc.outbound.v1', 'cc.sla.v1', 'cc.deadletter.v1'];
  const MAX_ROWS = 500;
  const $ = (id) => document.getElementById(id);
  let role = '';
  let source = null;
  let chartsTimer = null;

  function node(tag, text, className) {
    const n = document.createElement(tag);
    if (text !== undefined && text !== null) n.textContent = String(text);
    if (className) n.className = className;
    return n;
  }

  const api = window.OpsApi.api;

  // --- session -------------------------------------------------------------------------------
  function showSignIn() {
    stopAll();
    $('app').hidden = true;
    $('who').hidden = true;
    $('sign-in').hidden = false;
  }

  function showApp(session) {
    // The data-protection officer has a page of their own and nothing here.
    if (session.role === 'privacy') return location.assign('/privacy.html');
    window.OpsApi.setCsrfToken(session.csrfToken);
    role = session.role;
    $('who-name').textContent = session.name;
    $('who-role').textContent = session.role;
    $('who').hidden = false;
    $('sign-in').hidden = true;
    $('app').hidden = false;
    $('redaction-note').hidden = role !== 'ops';
    openStream();
    openLinkedTimeline();
  }

  // Other pages (the SMS outbox of npm start) link to a conversation as #timeline=<id>.
  function openLinkedTimeline() {
    const linked = /^#timeline=(.+)$/.exec(location.hash);
    if (!linked) return;
    let id;
    try {
      id = decodeURIComponent(linked[1]);
    } catch {
      return;
    }
    $('timeline-conversation').value = id;
    showTab('timeline');
    void loadTimeline(id);
  }

  $('sign-in-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('sign-in-error').textContent = '';
    try {
      const session = await api('/api/sign-in', { method: 'POST', body: { id: $('sign-in-id').value, password: $('sign-in-password').value } });
      $('sign-in-password').value = '';
      showApp(session);
    } catch (err) {
      $('sign-in-error').textContent = err.message;
    }
  });

  $('sign-out').addEventListener('click', async () => {
    try {
      await api('/api/sign-out', { method: 'POST', body: {} });
    } finally {
      showSignIn();
    }
  });

  function stopAll() {
    if (source) source.close();
    source = null;
    if (chartsTimer) clearInterval(chartsTimer);
    chartsTimer = null;
  }

  // --- tabs ----------------------------------------------------------------------------------
  function showTab(name) {
    for (const b of document.querySelectorAll('nav button')) b.classList.toggle('active', b.dataset.tab === name);
    for (const t of document.querySelectorAll('.tab')) t.hidden = t.id !== `tab-${name}`;
    if (chartsTimer) clearInterval(chartsTimer);
    chartsTimer = null;
    if (name === 'charts') {
      void refreshCharts();
      chartsTimer = setInterval(() => void refreshCharts(), 3000);
    }
    if (name === 'dead-letters') void refreshDeadLetters();
  }
  for (const b of document.querySelectorAll('nav button')) b.addEventListener('click', () => showTab(b.dataset.tab));

  // --- live events ---------------------------------------------------------------------------
  for (const t of TOPICS) $('filter-topic').appendChild(node('option', t));

  function conversationOf(r) {
    if (r.event && typeof r.event.conversationId === 'string') return r.event.conversationId;
    return r.topic === 'cc.agent.state.v1' ? null : r.key;
  }

  function summary(r) {
    if (r.deadLetter) return `dead letter: ${r.deadLetter.reason || '?'} from ${r.deadLetter.topic || '?'}`;
    if (r.error) return r.error;
    const e = r.event || {};
    const step = [
      'queued',
      'offered',
      'offerDeclined',
      'assigned',
      'escalated',
      'transferred',
      'handedBack',
      'requeued',
      'replied',
      'resolved',
      'abandoned',
      'surveyAnswered',
      'deliveryReported',
      'callEnded',
    ].find((s) => e[s] !== undefined);
    const parts = [(r.type || '').replace('contactcenter.v1.', '')];
    if (step) parts.push(step);
    if (e.kind)
      parts.push(
        String(e.kind)
          .replace(/^[A-Z_]*KIND_/, '')
          .toLowerCase(),
      );
    if (e.channel) parts.push(String(e.channel).replace('CHANNEL_', '').toLowerCase());
    return parts.filter(Boolean).join(' · ');
  }

  function conversationLink(id) {
    const a = node('a', id, 'conversation');
    a.href = '#';
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      $('timeline-conversation').value = id;
      showTab('timeline');
      void loadTimeline(id);
    });
    return a;
  }

  // The server builds the address from the configured trace UI and a checked hex trace id.
  function traceLink(r) {
    if (!r.traceUrl || !/^https?:\/\//.test(r.traceUrl)) return null;
    const a = node('a', 'trace', 'trace');
    a.href = r.traceUrl;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.title = `trace ${r.traceId}`;
    return a;
  }

  function addEventRow(r) {
    const tr = document.createElement('tr');
    tr.dataset.topic = r.topic;
    tr.appendChild(node('td', new Date(r.receivedAt || Date.now()).toLocaleTimeString()));
    tr.appendChild(node('td', r.topic));
    const conv = conversationOf(r);
    const convCell = node('td');
    if (conv) convCell.appendChild(conversationLink(conv));
    else convCell.textContent = r.key || '';
    tr.appendChild(convCell);
    tr.appendChild(node('td', summary(r)));
    const traceCell = node('td');
    const link = traceLink(r);
    if (link) traceCell.appendChild(link);
    tr.appendChild(traceCell);
    const detail = node('td');
    detail.appendChild(node('pre', JSON.stringify(r.event || r.deadLetter || {}, null, 1)));
    tr.appendChild(detail);
    const body = $('events');
    body.insertBefore(tr, body.firstChild);
    while (body.children.length > MAX_ROWS) body.removeChild(body.lastChild);
  }

  function openStream() {
    if (source) source.close();
    $('events').replaceChildren();
    const params = new URLSearchParams();
    if ($('filter-topic').value) params.set('topic', $('filter-topic').value);
    if ($('filter-channel').value) params.set('channel', $('filter-channel').value);
    if ($('filter-conversation').value.trim()) params.set('conversation', $('filter-conversation').value.trim());
    source = new EventSource(`/api/stream?${params}`);
    $('stream-status').textContent = 'connecting…';
    source.addEventListener('open', () => ($('stream-status').textContent = 'live'));
    source.addEventListener('error', async () => {
      $('stream-status').textContent = 'disconnected; retrying';
      try {
        await api('/api/session');
      } catch (err) {
        if (err.status === 401) showSignIn();
      }
    });
    source.addEventListener('record', (ev) => addEventRow(JSON.parse(ev.data)));
  }

  $('filter-form').addEventListener('submit', (e) => {
    e.preventDefault();
    openStream();
  });

  // --- timeline ------------------------------------------------------------------------------
  function duration(ms) {
    if (ms === null || ms === undefined) return '';
    const sign = ms < 0 ? '-' : '';
    const abs = Math.abs(ms);
    if (abs < 1000) return `${sign}${abs} ms`;
    if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(1)} s`;
    return `${sign}${Math.floor(abs / 60_000)} min ${Math.round((abs % 60_000) / 1000)} s`;
  }

  function showHops(hops) {
    const body = $('hops-body');
    body.replaceChildren();
    $('hops').hidden = hops.length === 0;
    for (const h of hops) {
      const tr = document.createElement('tr');
      tr.dataset.hop = h.hop;
      tr.appendChild(node('td', h.hop));
      tr.appendChild(node('td', new Date(h.at).toLocaleString()));
      tr.appendChild(node('td', h.sincePreviousMs === null ? '' : `+${duration(h.sincePreviousMs)}`));
      tr.appendChild(node('td', duration(h.sinceReceivedMs)));
      body.appendChild(tr);
    }
  }

  async function loadTimeline(id) {
    $('timeline').replaceChildren();
    showHops([]);
    $('timeline-status').textContent = 'reading every topic from the beginning…';
    try {
      const t = await api(`/api/conversations/${encodeURIComponent(id)}/timeline`);
      $('timeline-status').textContent =
        `${t.records.length} records, ${t.scanned} scanned in ${(t.tookMs / 1000).toFixed(1)} s${t.complete ? '' : ' (stopped at the time limit: incomplete)'}`;
      showHops(t.hops || []);
      for (const r of t.records) {
        const li = document.createElement('li');
        li.appendChild(node('strong', `${r.time ? new Date(r.time).toLocaleString() : ''} ${r.topic}`));
        const link = traceLink(r);
        if (link) li.append(' ', link);
        li.appendChild(node('div', summary(r)));
        li.appendChild(node('pre', JSON.stringify(r.event || r.deadLetter || {}, null, 1)));
        $('timeline').appendChild(li);
      }
    } catch (err) {
      $('timeline-status').textContent = err.message;
    }
  }
  $('timeline-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void loadTimeline($('timeline-conversation').value.trim());
  });

  // --- conversation search (metadata only for ops: customer-record leaves texts out) ------------
  let searchParams = null;
  let searchNext = '';
  async function runSearch(more) {
    const q = new URLSearchParams(searchParams);
    if (more) q.set('pageToken', searchNext);
    try {
      const data = await api(`/api/search?${q}`);
      const body = $('search-results');
      if (!more) body.replaceChildren();
      for (const r of data.rows) {
        const tr = node('tr');
        tr.dataset.conversation = r.conversationId;
        for (const v of [new Date(r.lastActivityAt).toLocaleString(), r.conversationId, r.customerId, r.channel, r.state, r.queue, r.agentId, r.messages])
          tr.appendChild(node('td', v));
        body.appendChild(tr);
      }
      searchNext = data.next;
      $('search-more').hidden = !data.next;
      $('search-status').textContent = body.children.length ? '' : 'Nothing found.';
    } catch (err) {
      $('search-status').textContent = err.message;
    }
  }
  $('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    searchParams = new URLSearchParams([...new FormData($('search-form'))].filter(([, v]) => String(v).trim()));
    void runSearch(false);
  });
  $('search-more').addEventListener('click', () => void runSearch(true));

  // --- charts --------------------------------------------------------------------------------
  async function refreshCharts() {
    let c;
    try {
      c = await api('/api/charts');
    } catch (err) {
      $('charts-sources').textContent = err.message;
      return;
    }
    const C = window.OpsCharts;
    $('charts-sources').textContent = `routing queue statistics: ${c.sources.queueStats}; consumer lag: ${c.sources.lag}`;
    C.lineChart(
      $('chart-contacts'),
      Object.entries(c.contactsPerMinute).map(([name, points]) => ({ name, points })),
    );
    C.lineChart(
      $('chart-waiting'),
      Object.entries(c.waitingPerQueue).map(([name, points]) => ({ name, points })),
    );
    C.barChart(
      $('chart-service-level'),
      c.serviceLevel.map((s) => ({ label: s.channel, bars: [{ name: 'service level %', value: s.value === null ? null : s.value * 100 }] })),
      { yMax: 100, target: (c.serviceLevel[0] ? c.serviceLevel[0].target : 0.8) * 100, format: (v) => `${Math.round(v)}%` },
    );
    $('breaches-total').textContent = String(c.slaBreachesTotal);
    C.lineChart($('chart-breaches'), [{ name: 'breaches', points: c.slaBreachesPerMinute }]);
    C.barChart(
      $('chart-waits'),
      c.waits.slice(-12).map((w) => ({
        label: w.conversationId.slice(-8),
        bars: [
          { name: 'estimated', value: w.estimatedMs / 1000 },
          { name: 'actual', value: w.actualMs / 1000 },
        ],
      })),
      { empty: 'no answered conversation yet' },
    );
    C.barChart(
      $('chart-agents'),
      c.agents.map((a) => ({
        label: a.queue,
        bars: [
          { name: 'needed', value: a.needed },
          { name: 'staffed', value: a.staffed },
        ],
      })),
      { empty: 'no queue statistics from routing' },
    );
    C.barChart(
      $('chart-lag'),
      c.lag.slice(0, 10).map((l) => ({ label: l.group, bars: [{ name: 'lag', value: l.lag }] })),
      { empty: 'no consumer group' },
    );
    $('dead-letter-count').textContent = String(c.deadLettersOnTopic);
    C.lineChart($('chart-dead-letters'), [{ name: 'dead letters per minute', points: c.deadLettersPerMinute }]);
  }

  // --- dead letters --------------------------------------------------------------------------
  function field(dl, name, value) {
    dl.appendChild(node('dt', name));
    const dd = node('dd');
    if (value instanceof Node) dd.appendChild(value);
    else dd.textContent = value === undefined || value === null ? '' : String(value);
    dl.appendChild(dd);
  }

  async function refreshDeadLetters() {
    $('dead-letters-status').textContent = 'loading…';
    let data;
    try {
      data = await api('/api/dead-letters');
    } catch (err) {
      $('dead-letters-status').textContent = err.message;
      return;
    }
    $('dead-letters-status').textContent = `${data.count} dead letters on the topic`;
    const list = $('dead-letters');
    list.replaceChildren();
    for (const d of data.records) {
      const box = node('article', undefined, 'dead-letter');
      box.dataset.position = `${d.partition}:${d.offset}`;
      box.appendChild(node('h3', `${d.reason}: ${d.original.topic || 'unknown topic'}`));
      const dl = document.createElement('dl');
      field(dl, 'Detail', d.detail);
      field(dl, 'Original', `${d.original.topic} partition ${d.original.partition ?? '?'} offset ${d.original.offset ?? '?'}`);
      field(dl, 'Dead-letter position', `partition ${d.partition} offset ${d.offset}`);
      field(dl, 'Key', d.key);
      field(dl, 'Consumer group', d.consumerGroup);
      field(dl, 'Attempts', d.attempts);
      field(dl, 'Dead-lettered at', d.deadLetteredAt);
      field(dl, 'Event type / id', `${d.ceType || '?'} / ${d.ceId || '?'}`);
      field(dl, 'Size / SHA-256', `${d.size} bytes / ${d.sha256}`);
      if (d.valueHex !== undefined) field(dl, 'Bytes (hex)', node('pre', d.valueHex + (d.hexTruncated ? '…' : ''), 'hex'));
      if (d.valueBase64 !== undefined) field(dl, 'Bytes (base64)', node('pre', d.valueBase64, 'base64'));
      if (d.event !== undefined) field(dl, 'Decoded', node('pre', JSON.stringify(d.event, null, 1)));
      if (d.decodeError) field(dl, 'Does not decode', d.decodeError);
      field(dl, 'Replays', d.replays.length ? d.replays.map((r) => `${r.by} at ${new Date(r.at).toLocaleString()}`).join('; ') : 'none');
      box.appendChild(dl);
      if (data.canReplay) {
        const button = node('button', 'Replay to original topic', 'replay');
        button.type = 'button';
        button.addEventListener('click', async () => {
          if (!window.confirm(`Replay this record to ${d.original.topic}? Do it once the cause is fixed.`)) return;
          button.disabled = true;
          try {
            const r = await api(`/api/dead-letters/${d.partition}/${d.offset}/replay`, { method: 'POST', body: {} });
            $('dead-letters-status').textContent = `replayed to ${r.replayedTo}`;
            await refreshDeadLetters();
            $('dead-letters-status').textContent = `replayed to ${r.replayedTo}`;
          } catch (err) {
            $('dead-letters-status').textContent = err.message;
            button.disabled = false;
          }
        });
        box.appendChild(button);
      }
      list.appendChild(box);
    }
  }
  $('dead-letters-refresh').addEventListener('click', () => void refreshDeadLetters());

  // --- start ---------------------------------------------------------------------------------
  api('/api/session').then(showApp, showSignIn);
})();
