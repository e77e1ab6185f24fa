// Small inline-SVG charts. Labels come from event data (queue names, consumer groups), so they
// are always set with textContent, never parsed as markup.
'use strict';
(function () {
  const NS = 'http://www.w3.org/2000/svg';
  const COLOURS = ['#1d5ea8', '#d9822b', '#2e8540', '#a8326e', '#6b4fbb', '#0f8a8a', '#8a6d0f', '#b3261e'];
  const W = 420;
  const H = 180;
  const PAD = { left: 36, right: 8, top: 8, bottom: 34 };

  function el(name, attrs, text) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function frame(container, yMax, yLabel) {
    container.replaceChildren();
    const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img' });
    const plotH = H - PAD.top - PAD.bottom;
    for (const f of [0, 0.5, 1]) {
      const y = PAD.top + plotH * (1 - f);
      svg.appendChild(el('line', { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, stroke: '#e4e7eb' }));
      svg.appendChild(el('text', { x: PAD.left - 4, y: y + 3, 'text-anchor': 'end' }, yLabel(yMax * f)));
    }
    container.appendChild(svg);
    return svg;
  }

  function legend(svg, names) {
    let x = PAD.left;
    names.forEach((name, i) => {
      svg.appendChild(el('rect', { x, y: H - 12, width: 8, height: 8, fill: COLOURS[i % COLOURS.length] }));
      const label = el('text', { x: x + 11, y: H - 4 }, name);
      svg.appendChild(label);
      x += 16 + Math.min(String(name).length, 24) * 6;
    });
  }

  function round(v) {
    const a = Math.abs(v);
    if (a >= 1e6) return `${Math.round(v / 1e5) / 10}M`;
    if (a >= 1e4) return `${Math.round(v / 1e3)}k`;
    return a >= 10 ? Math.round(v) : Math.round(v * 10) / 10;
  }

  /** series: [{ name, points: [{ t, v }] }]; options: { target, yMax, format } */
  function lineChart(container, series, options) {
    const opts = options || {};
    const all = series.flatMap((s) => s.points);
    const yMax = opts.yMax || Math.max(1, ...all.map((p) => p.v), opts.target || 0);
    const t0 = Math.min(...all.map((p) => p.t));
    const t1 = Math.max(...all.map((p) => p.t));
    const svg = frame(container, yMax, opts.format || round);
    const plotW = W - PAD.left - PAD.right;
    const plotH = H - PAD.top - PAD.bottom;
    const x = (t) => PAD.left + (t1 > t0 ? ((t - t0) / (t1 - t0)) * plotW : plotW);
    const y = (v) => PAD.top + plotH * (1 - v / yMax);
    if (all.length === 0) svg.appendChild(el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'no data yet'));
    series.forEach((s, i) => {
      if (s.points.length === 0) return;
      const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
      const path = el('path', { d, fill: 'none', stroke: COLOURS[i % COLOURS.length], 'stroke-width': 2 });
      path.appendChild(el('title', {}, s.name));
      svg.appendChild(path);
    });
    if (all.length > 0) {
      svg.appendChild(el('text', { x: PAD.left, y: H - PAD.bottom + 12 }, new Date(t0).toLocaleTimeString()));
      svg.appendChild(el('text', { x: W - PAD.right, y: H - PAD.bottom + 12, 'text-anchor': 'end' }, new Date(t1).toLocaleTimeString()));
    }
    legend(
      svg,
      series.map((s) => s.name),
    );
  }

  /** groups: [{ label, bars: [{ name, value }] }]; options: { target, yMax, format } */
  function barChart(container, groups, options) {
    const opts = options || {};
    const names = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.name)))];
    const yMax = opts.yMax || Math.max(1, ...groups.flatMap((g) => g.bars.map((b) => b.value || 0)), opts.target || 0);
    const svg = frame(container, yMax, opts.format || round);
    const plotW = W - PAD.left - PAD.right;
    const plotH = H - PAD.top - PAD.bottom;
    if (groups.length === 0) svg.appendChild(el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, opts.empty || 'no data yet'));
    const groupW = plotW / Math.max(1, groups.length);
    const barW = Math.max(2, (groupW - 8) / Math.max(1, names.length));
    groups.forEach((g, gi) => {
      const gx = PAD.left + gi * groupW + 4;
      g.bars.forEach((b) => {
        const i = names.indexOf(b.name);
        const v = b.value === null || b.value === undefined ? 0 : b.value;
        const h = (v / yMax) * plotH;
        const rect = el('rect', { x: gx + i * barW, y: PAD.top + plotH - h, width: barW - 1, height: h, fill: COLOURS[i % COLOURS.length] });
        rect.appendChild(el('title', {}, `${g.label} ${b.name}: ${b.value === null ? 'no data' : round(v)}`));
        svg.appendChild(rect);
      });
      const fits = Math.max(3, Math.floor(groupW / 6));
      const text = String(g.label);
      const label = el(
        'text',
        { x: gx + (groupW - 8) / 2, y: H - PAD.bottom + 12, 'text-anchor': 'middle' },
        text.length > fits ? `${text.slice(0, fits - 1)}…` : text,
      );
      label.appendChild(el('title', {}, text));
      svg.appendChild(label);
    });
    if (opts.target !== undefined) {
      const ty = PAD.top + plotH * (1 - opts.target / yMax);
      svg.appendChild(el('line', { x1: PAD.left, x2: W - PAD.right, y1: ty, y2: ty, stroke: '#b3261e', 'stroke-dasharray': '4 3' }));
      svg.appendChild(el('text', { x: W - PAD.right, y: ty - 3, 'text-anchor': 'end' }, `target ${opts.format ? opts.format(opts.target) : opts.target}`));
    }
    legend(svg, names);
  }

  window.OpsCharts = { lineChart, barChart };
})();
