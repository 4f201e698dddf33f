// Small SVG charts for the designer's day results and the dashboard: line, step and stacked-area
// series over a shared x axis, with axes that carry their units and a legend. Each call replaces
// the contents of an <svg> element; the drawing scales with the element (viewBox).

const NS = 'http://www.w3.org/2000/svg';
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2',
                        '#7f7f7f', '#bcbd22', '#17becf'];

export function el(name, attrs = {}, parent = null) {
  const e = document.createElementNS(NS, name);
  for (const [k, val] of Object.entries(attrs)) e.setAttribute(k, val);
  if (parent) parent.appendChild(e);
  return e;
}

// Round tick values covering [lo, hi].
export function ticks(lo, hi, n = 5) {
  if (!(hi > lo)) {
    hi = lo + 1;
  }
  const raw = (hi - lo) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return out;
}

function fmt(t) {
  const a = Math.abs(t);
  if (a >= 1e4 || (a > 0 && a < 1e-3)) return t.toExponential(1);
  return String(Math.round(t * 1000) / 1000);
}

// chart(svg, {x: [..], xLabel, yLabel, series: [{name, values, kind: 'line'|'step'|'area', color}],
//             stacked: bool, title})
// Area series are stacked on each other (in order); line and step series are drawn over them.
export function chart(svg, opt) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const W = 480;
  const H = 240;
  const m = {l: 56, r: 12, t: opt.title ? 22 : 10, b: 40};
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('role', 'img');
  if (opt.title) svg.setAttribute('aria-label', opt.title);
  const series = (opt.series || []).filter((s) => s.values && s.values.length);
  const n = Math.max(0, ...series.map((s) => s.values.length));
  const xs = opt.x && opt.x.length >= n ? opt.x : Array.from({length: n}, (_, i) => i);
  if (!n) {
    el('text', {x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'chart-empty'}, svg).textContent = opt.empty || 'no data yet';
    return;
  }
  // Stack the areas.
  const base = new Array(n).fill(0);
  const stacks = [];
  for (const s of series) {
    if (s.kind !== 'area') continue;
    const lo = base.slice();
    const hi = lo.map((b, i) => b + (Number.isFinite(s.values[i]) ? Math.max(0, s.values[i]) : 0));
    for (let i = 0; i < n; i++) base[i] = hi[i];
    stacks.push({s, lo, hi});
  }
  let ymin = Infinity;
  let ymax = -Infinity;
  for (const st of stacks) for (const v of st.hi) { ymin = Math.min(ymin, v); ymax = Math.max(ymax, v); }
  for (const s of series) {
    if (s.kind === 'area') continue;
    for (const v of s.values) if (Number.isFinite(v)) { ymin = Math.min(ymin, v); ymax = Math.max(ymax, v); }
  }
  if (stacks.length) ymin = Math.min(ymin, 0);
  if (!Number.isFinite(ymin)) { ymin = 0; ymax = 1; }
  if (ymax === ymin) { ymax += Math.abs(ymax) * 0.1 || 1; ymin -= stacks.length ? 0 : Math.abs(ymin) * 0.1 || 1; }
  const step = series.some((s) => s.kind === 'step');
  const xlo = xs[0];
  const xhi = step && n > 1 ? xs[n - 1] + (xs[n - 1] - xs[n - 2]) : xs[n - 1] === xlo ? xlo + 1 : xs[n - 1];
  const X = (x) => m.l + ((x - xlo) / (xhi - xlo)) * (W - m.l - m.r);
  const Y = (y) => H - m.b - ((y - ymin) / (ymax - ymin)) * (H - m.t - m.b);
  if (opt.title) el('text', {x: m.l, y: 14, class: 'chart-title'}, svg).textContent = opt.title;
  // Axes with ticks and units.
  const ax = el('g', {class: 'axis'}, svg);
  for (const t of ticks(ymin, ymax, 4)) {
    el('line', {x1: m.l, x2: W - m.r, y1: Y(t), y2: Y(t), class: 'grid'}, ax);
    el('text', {x: m.l - 4, y: Y(t) + 4, 'text-anchor': 'end'}, ax).textContent = fmt(t);
  }
  for (const t of ticks(xlo, xhi, 6)) {
    el('text', {x: X(t), y: H - m.b + 14, 'text-anchor': 'middle'}, ax).textContent = fmt(t);
  }
  el('line', {x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b, class: 'axis-line'}, ax);
  el('line', {x1: m.l, x2: m.l, y1: m.t, y2: H - m.b, class: 'axis-line'}, ax);
  if (opt.xLabel) el('text', {x: (W + m.l) / 2, y: H - 18, 'text-anchor': 'middle', class: 'axis-label'}, ax).textContent = opt.xLabel;
  if (opt.yLabel) {
    el('text', {x: 12, y: (H - m.b + m.t) / 2, 'text-anchor': 'middle', class: 'axis-label',
                transform: `rotate(-90 12 ${(H - m.b + m.t) / 2})`}, ax).textContent = opt.yLabel;
  }
  const xAt = (i, right) => X(step ? xs[i] + (right ? (i + 1 < n ? xs[i + 1] - xs[i] : xhi - xs[n - 1]) : 0) : xs[i]);
  let k = 0;
  const legend = [];
  for (const st of stacks) {
    const color = st.s.color || PALETTE[k++ % PALETTE.length];
    const pts = [];
    for (let i = 0; i < n; i++) {
      if (step) pts.push(`${xAt(i, false)},${Y(st.hi[i])}`, `${xAt(i, true)},${Y(st.hi[i])}`);
      else pts.push(`${X(xs[i])},${Y(st.hi[i])}`);
    }
    for (let i = n - 1; i >= 0; i--) {
      if (step) pts.push(`${xAt(i, true)},${Y(st.lo[i])}`, `${xAt(i, false)},${Y(st.lo[i])}`);
      else pts.push(`${X(xs[i])},${Y(st.lo[i])}`);
    }
    const p = el('polygon', {points: pts.join(' '), fill: color, 'fill-opacity': 0.75, stroke: color}, svg);
    el('title', {}, p).textContent = st.s.name;
    legend.push({name: st.s.name, color});
  }
  for (const s of series) {
    if (s.kind === 'area') continue;
    const color = s.color || PALETTE[k++ % PALETTE.length];
    let d = '';
    let pen = false;
    for (let i = 0; i < n; i++) {
      const val = s.values[i];
      if (!Number.isFinite(val)) { pen = false; continue; }
      if (s.kind === 'step') {
        d += `${pen ? 'L' : 'M'}${xAt(i, false)},${Y(val)}L${xAt(i, true)},${Y(val)}`;
      } else {
        d += `${pen ? 'L' : 'M'}${X(xs[i])},${Y(val)}`;
      }
      pen = true;
    }
    const p = el('path', {d, fill: 'none', stroke: color, 'stroke-width': 2, 'stroke-dasharray': s.dash || ''}, svg);
    el('title', {}, p).textContent = s.name;
    legend.push({name: s.name, color});
  }
  // Legend: a row (or more) under the axis label, the chart grown to hold it.
  if (legend.length > 1) {
    let lx = m.l;
    let ly = H + 4;
    for (const it of legend) {
      const w = 16 + 6.2 * it.name.length;
      if (lx + w > W - m.r && lx > m.l) {
        lx = m.l;
        ly += 15;
      }
      el('rect', {x: lx, y: ly, width: 9, height: 9, fill: it.color}, svg);
      el('text', {x: lx + 12, y: ly + 9, class: 'legend'}, svg).textContent = it.name;
      lx += w + 8;
    }
    svg.setAttribute('viewBox', `0 0 ${W} ${ly + 14}`);
  }
}
