// The Reports tab: rows per interval and per queue, channel or agent as a table and charts, the
// CSV download, and a report card for one of them. Names come from event data: textContent only.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const COLUMNS = [
    ['offered', 'Offered', 'n'],
    ['answered', 'Answered', 'n'],
    ['abandoned', 'Abandoned', 'n'],
    ['abandonRate', 'Abandon rate', '%'],
    ['averageTimeToAbandonMs', 'Avg time to abandon', 'ms'],
    ['serviceLevel', 'Service level', '%'],
    ['averageSpeedOfAnswerMs', 'ASA', 'ms'],
    ['resolved', 'Resolved', 'n'],
    ['averageHandleMs', 'AHT', 'ms'],
    ['firstContactResolution', 'FCR', '%'],
    ['transfers', 'Transfers', 'n'],
    ['escalations', 'Escalations', 'n'],
    ['surveys', 'Surveys', 'n'],
    ['averageSurveyScore', 'Avg score', 'score'],
    ['promisesKept', 'Promises kept', 'n'],
    ['promisesBroken', 'Promises broken', 'n'],
    ['promisesKeptShare', 'Promises kept %', '%'],
    ['companyStarted', 'Written first', 'n'],
  ];

  function node(tag, text, className) {
    const n = document.createElement(tag);
    if (text !== undefined && text !== null) n.textContent = String(text);
    if (className) n.className = className;
    return n;
  }

  function format(value, kind) {
    if (value === null || value === undefined) return '–';
    if (kind === '%') return `${Math.round(value * 1000) / 10} %`;
    if (kind === 'ms') return value >= 60_000 ? `${Math.round(value / 6000) / 10} min` : `${Math.round(value / 100) / 10} s`;
    return String(value);
  }

  async function getJson(path) {
    const res = await fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
    return data;
  }

  function query(extra) {
    const q = new URLSearchParams({ interval: $('report-interval').value, by: $('report-by').value });
    if ($('report-from').value) q.set('from', $('report-from').value);
    if ($('report-to').value) q.set('to', $('report-to').value);
    for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
    return q;
  }

  function startLabel(t, interval) {
    const d = new Date(t);
    return interval === 'day' ? d.toISOString().slice(0, 10) : d.toISOString().slice(0, 16).replace('T', ' ');
  }

  function table(body, rows, interval, withValue) {
    body.replaceChildren();
    for (const r of rows) {
      const tr = node('tr');
      tr.appendChild(node('td', startLabel(r.start, interval)));
      if (withValue) {
        const td = node('td');
        const a = node('a', r.value, 'conversation');
        a.href = '#';
        a.addEventListener('click', (e) => {
          e.preventDefault();
          void showCard(r.value);
        });
        td.appendChild(a);
        tr.appendChild(td);
      }
      for (const [key, , kind] of COLUMNS) tr.appendChild(node('td', format(r.figures[key], kind)));
      body.appendChild(tr);
    }
  }

  /** Offered, answered and abandoned per interval (all values together), and service level per value. */
  function charts(rows, interval) {
    const starts = [...new Set(rows.map((r) => r.start))].sort((a, b) => a - b);
    const groups = starts.map((t) => {
      const at = rows.filter((r) => r.start === t);
      const sum = (k) => at.reduce((s, r) => s + r.figures[k], 0);
      return {
        label: startLabel(t, interval),
        bars: [
          { name: 'offered', value: sum('offered') },
          { name: 'answered', value: sum('answered') },
          { name: 'abandoned', value: sum('abandoned') },
        ],
      };
    });
    window.OpsCharts.barChart($('report-chart-volume'), groups, { empty: 'no contacts in this period' });
    // Up to eight lines, of the names that have a service level in the period.
    const values = [...new Set(rows.filter((r) => r.figures.serviceLevel !== null).map((r) => r.value))].slice(0, 8);
    const series = values.map((v) => ({
      name: v,
      points: rows.filter((r) => r.value === v && r.figures.serviceLevel !== null).map((r) => ({ t: r.start, v: r.figures.serviceLevel })),
    }));
    window.OpsCharts.lineChart($('report-chart-service-level'), series, { yMax: 1, format: (v) => `${Math.round(v * 100)} %` });
  }

  async function loadReport() {
    const q = query();
    $('report-csv').href = `/api/reports.csv?${q}`;
    try {
      const data = await getJson(`/api/reports?${q}`);
      table($('report-rows'), data.rows, data.interval, true);
      charts(data.rows, data.interval);
      $('report-status').textContent = `${data.rows.length} rows, ${data.from} to ${data.to} (UTC); ${data.eventsFolded} events folded`;
    } catch (err) {
      $('report-status').textContent = err.message;
    }
  }

  async function showCard(value) {
    try {
      const card = await getJson(`/api/reports/card?${query({ value })}`);
      $('report-card').hidden = false;
      $('report-card-title').textContent = `Report card: ${card.dimension} ${card.value}, ${card.from} to ${card.to}`;
      const dl = $('report-card-totals');
      dl.replaceChildren();
      for (const [key, label, kind] of COLUMNS) {
        dl.appendChild(node('dt', label));
        dl.appendChild(node('dd', format(card.totals[key], kind)));
      }
      table($('report-card-rows'), card.series, card.interval, false);
      const groups = card.series.map((r) => ({
        label: startLabel(r.start, card.interval),
        bars: [
          { name: 'answered', value: r.figures.answered },
          { name: 'resolved', value: r.figures.resolved },
        ],
      }));
      window.OpsCharts.barChart($('report-card-chart'), groups, { empty: 'nothing in this period' });
    } catch (err) {
      $('report-status').textContent = err.message;
    }
  }

  for (const id of ['report-head', 'report-card-head']) {
    const head = $(id);
    if (id === 'report-head') head.appendChild(node('th', 'Value'));
    for (const [, label] of COLUMNS) head.appendChild(node('th', label));
  }
  $('report-form').addEventListener('submit', (e) => {
    e.preventDefault();
    $('report-card').hidden = true;
    void loadReport();
  });
  document.querySelector('nav button[data-tab="reports"]').addEventListener('click', () => void loadReport());
})();
