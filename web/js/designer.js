// The grid designer: an SVG drawing of a plurigrid world (buses, branches and the units at each
// bus) that the user edits with a palette, the pointer (mouse, pen or touch: drag to move, drag
// the background or pinch to pan and zoom) and the keyboard, a side panel that edits the
// selection's fields with their units and checks them, undo and redo, saving to the server or a
// file, importing MATPOWER cases, and running a power flow (buses coloured by voltage, branches by
// loading) or a day-ahead schedule (dispatch stack and price charts) as server jobs.
//
// Positions are kept in the world's own coordinates (the buses' "x" and "y"); the view maps them
// to the screen (k, tx, ty) and the symbols keep their size in pixels at every zoom.

import * as api from './api.js';
import * as W from './world.js';
import {History} from './history.js';
import {chart, el} from './charts.js';

const UNIT_GLYPH = {loads: 'load', thermals: 'generator', renewables: 'renewable', storages: 'storage'};
const DRAFT_KEY = 'plurigrid-designer-draft';
const NAME_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;
const fmt4 = (x) => (Number.isFinite(x) ? x.toFixed(4) : '–');
const fmt2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');

// Voltage magnitude to a colour: 0.9 blue, 1.0 green, 1.1 red (clamped).
export function vmColor(vm, lo = 0.9, hi = 1.1) {
  const t = Math.max(0, Math.min(1, (vm - lo) / (hi - lo)));
  return `hsl(${240 - 240 * t}, 75%, 45%)`;
}
// Loading in % of rate_a to a colour: green, yellow at 70 %, red from 100 %.
export function loadingColor(pct) {
  const t = Math.max(0, Math.min(1, pct / 100));
  const h = t < 0.7 ? 120 - (60 * t) / 0.7 : 60 - (60 * (t - 0.7)) / 0.3;
  return `hsl(${h}, 80%, 40%)`;
}

export class Designer {
  constructor() {
    this.svg = document.getElementById('canvas');
    this.layers = {
      branches: document.getElementById('layer-branches'),
      units: document.getElementById('layer-units'),
      buses: document.getElementById('layer-buses'),
      ghost: document.getElementById('layer-ghost'),
    };
    this.world = W.emptyWorld();
    this.history = new History();
    this.sel = null; // {section, index}
    this.tool = 'select';
    this.pending = null; // first bus of a branch being drawn
    this.view = {k: 1, tx: 0, ty: 0};
    this.pf = null; // {bus: Map name -> row, branch: Map index -> row, doc}
    this.nodes = null;
    this.pointers = new Map();
    this.job = null;
    this.serverProblem = null; // {section, index, key, message} from a 422
    this.bind();
    this.render();
    this.renderPanel();
    this.refreshList();
    this.restoreDraft();
  }

  // The drawing is kept in the browser (localStorage) at every change, so that a reload or a
  // closed tab does not lose what was not saved; the page opens with it again.
  keepDraft() {
    try {
      if (this.world.buses.length) localStorage.setItem(DRAFT_KEY, this.snapshot());
      else localStorage.removeItem(DRAFT_KEY);
    } catch {
      /* no storage (private mode, full): the drawing lives in the page only */
    }
  }

  restoreDraft() {
    let w = null;
    try {
      w = JSON.parse(localStorage.getItem(DRAFT_KEY) || 'null');
    } catch {
      w = null;
    }
    if (!w || !Array.isArray(w.buses) || !w.buses.length || !W.SECTIONS.every((s) => Array.isArray(w[s]))) return;
    this.setWorld(w);
    this.status(`Your last drawing (${w.buses.length} buses) is back: New starts an empty one.`);
  }

  show() {
    this.position();
  }

  // ------------------------------------------------------------------ edits

  snapshot() {
    return JSON.stringify(this.world);
  }

  // Applies fn to the world as one undoable edit.
  edit(label, fn, {panel = true} = {}) {
    const before = this.snapshot();
    fn(this.world);
    if (this.snapshot() === before) return;
    this.history.push(label, before);
    this.changed(panel);
  }

  changed(panel = true) {
    this.keepDraft();
    this.pf = null;
    this.serverProblem = null;
    document.getElementById('legend').hidden = true;
    this.render();
    if (panel) this.renderPanel();
    else this.updateProblems();
  }

  setWorld(w, {keepHistory = false, fit = true} = {}) {
    const before = this.snapshot();
    this.world = w;
    this.sel = null;
    this.pending = null;
    if (keepHistory) this.history.push('open ' + (w.name || 'world'), before);
    else this.history.clear();
    document.getElementById('world-name').value = w.name || '';
    this.changed();
    if (fit) this.fit();
  }

  undo() {
    const s = this.history.undo(this.snapshot());
    if (s !== null) this.restore(s);
  }

  redo() {
    const s = this.history.redo(this.snapshot());
    if (s !== null) this.restore(s);
  }

  restore(s) {
    this.world = JSON.parse(s);
    if (this.sel && !(this.world[this.sel.section] || [])[this.sel.index]) this.sel = null;
    document.getElementById('world-name').value = this.world.name || '';
    this.changed();
  }

  deleteSelection() {
    if (!this.sel) return;
    const {section, index} = this.sel;
    const c = this.world[section][index];
    this.sel = null;
    // A bus takes its branches and units with it: the status says so (Undo brings them back).
    const nb = section === 'buses' ? this.world.branches.filter((b) => b.from === c.name || b.to === c.name).length : 0;
    const nu = section === 'buses' ? W.unitsAt(this.world, c.name).length : 0;
    this.edit(`delete ${W.KIND[section]} ${c.name}`, (w) => W.remove(w, section, index));
    const also = [nb ? `${nb} branch${nb > 1 ? 'es' : ''}` : '', nu ? `${nu} unit${nu > 1 ? 's' : ''}` : ''].filter(Boolean);
    this.status(`Deleted ${W.KIND[section]} ${c.name}${also.length ? ` with its ${also.join(' and ')}` : ''} (Ctrl+Z undoes it).`);
  }

  select(section, index) {
    this.sel = section ? {section, index} : null;
    this.render();
    this.renderPanel();
    if (section && window.matchMedia('(max-width: 800px)').matches) this.openDrawer('panel', true);
  }

  setTool(tool) {
    this.tool = tool;
    this.pending = null;
    for (const b of document.querySelectorAll('.tool')) b.setAttribute('aria-pressed', String(b.dataset.tool === tool));
    this.svg.dataset.tool = tool;
    this.layers.ghost.replaceChildren();
    const tips = {
      select: 'Select: click an item to edit it, drag a bus to move it, drag the background to pan.',
      bus: 'Click the canvas to place a bus.',
      line: 'Click the from bus, then the to bus.',
      transformer: 'Click the from (tap side) bus, then the to bus.',
    };
    this.status(tips[tool] || `Click the bus the ${tool} connects to.`);
    if (window.matchMedia('(max-width: 800px)').matches) this.openDrawer('palette', false);
  }

  // A click on the canvas with the current tool, at world point (wx, wy), maybe on bus name.
  apply(wx, wy, busName) {
    const t = this.tool;
    if (t === 'bus') {
      let added = null;
      this.edit('add bus', (w) => {
        const [s, c] = W.newComponent(w, 'bus', {x: wx, y: wy});
        w[s].push(c);
        added = {section: s, index: w[s].length - 1};
      });
      this.select(added.section, added.index);
      return;
    }
    if (!busName) {
      this.status(t === 'line' || t === 'transformer' ? 'Click a bus to start from.' : `Click a bus to put the ${t} on.`);
      return;
    }
    if (t === 'line' || t === 'transformer') {
      if (!this.pending) {
        this.pending = busName;
        this.status(`From ${busName}: now click the to bus (Esc to stop).`);
        this.render();
        return;
      }
      if (this.pending === busName) {
        this.status('A branch needs two different buses: click another bus.');
        return;
      }
      const from = this.pending;
      this.pending = null;
      let added = null;
      this.edit(`add ${t}`, (w) => {
        const [s, c] = W.newComponent(w, t, {from, to: busName});
        w[s].push(c);
        added = {section: s, index: w[s].length - 1};
      });
      this.select(added.section, added.index);
      this.status(`Added a ${t} from ${from} to ${busName}. Click two more buses for another.`);
      return;
    }
    let added = null;
    this.edit(`add ${t}`, (w) => {
      const [s, c] = W.newComponent(w, t, {bus: busName});
      w[s].push(c);
      added = {section: s, index: w[s].length - 1};
    });
    this.select(added.section, added.index);
  }

  // ------------------------------------------------------------------ drawing

  busIndex() {
    const m = new Map();
    this.world.buses.forEach((b, i) => m.set(b.name, i));
    return m;
  }

  // Gives every bus without a position one on a circle beside the others (the server's layout
  // does better: "Lay out").
  placeMissing() {
    const bs = this.world.buses;
    const missing = bs.filter((b) => !Number.isFinite(b.x) || !Number.isFinite(b.y));
    if (!missing.length) return;
    const r = 40 * Math.max(2, Math.sqrt(bs.length));
    missing.forEach((b, i) => {
      const a = (2 * Math.PI * i) / missing.length;
      b.x = Math.round(r * Math.cos(a));
      b.y = Math.round(r * Math.sin(a));
    });
  }

  render() {
    this.placeMissing();
    const w = this.world;
    const bi = this.busIndex();
    // The drawing is made anew: the item that has the keyboard's focus gets it back (else Tab
    // would start again from the first item after every Enter).
    const a = document.activeElement;
    const kept = a && a !== this.svg && this.svg.contains(a) && a.dataset && a.dataset.section
      ? (a.dataset.bus !== undefined ? `.bus[data-bus="${CSS.escape(a.dataset.bus)}"]`
        : `[data-section="${a.dataset.section}"][data-index="${a.dataset.index}"]`) : null;
    for (const l of [this.layers.branches, this.layers.units, this.layers.buses]) l.replaceChildren();
    const nodes = {buses: [], branches: [], units: []};
    const isSel = (s, i) => this.sel && this.sel.section === s && this.sel.index === i;
    w.branches.forEach((br, i) => {
      const a = bi.get(br.from);
      const b = bi.get(br.to);
      if (a === undefined || b === undefined) return;
      const g = el('g', {class: `branch ${br.kind === 'transformer' ? 'transformer' : 'line'}${isSel('branches', i) ? ' selected' : ''}${br.in_service === false ? ' out' : ''}`,
                         'data-section': 'branches', 'data-index': i, 'data-branch': br.name, tabindex: 0,
                         role: 'button', 'aria-label': `${br.kind === 'transformer' ? 'transformer' : 'line'} ${br.name} from ${br.from} to ${br.to}`}, this.layers.branches);
      const hit = el('line', {class: 'hit'}, g);
      const ln = el('line', {class: 'wire'}, g);
      const extra = [];
      if (br.kind === 'transformer') {
        extra.push(el('circle', {r: 6, class: 'coil'}, g), el('circle', {r: 6, class: 'coil'}, g));
      }
      const title = el('title', {}, g);
      const row = this.pf && this.pf.branch.get(i);
      let tip = `${br.name}: ${br.from} → ${br.to}, r ${br.r || 0}, x ${br.x} p.u.${br.rate_a ? `, rating ${br.rate_a} MVA` : ''}`;
      if (row) {
        const s = this.loading(br, row);
        tip += `\nP ${fmt2(row.pf_mw)} MW, Q ${fmt2(row.qf_mvar)} MVAr, loss ${fmt2(row.loss_mw)} MW` + (s.pct !== null ? `\nloading ${s.pct.toFixed(1)} % of rate_a` : '');
        if (s.pct !== null) {
          ln.style.stroke = loadingColor(s.pct);
          g.dataset.loading = s.pct.toFixed(1);
        }
      }
      title.textContent = tip;
      nodes.branches.push({g, hit, ln, extra, a, b});
    });
    w.buses.forEach((bus, i) => {
      const units = W.unitsAt(w, bus.name);
      units.forEach((u, j) => {
        const g = el('g', {class: `unit ${UNIT_GLYPH[u.section]}${isSel(u.section, u.index) ? ' selected' : ''}`,
                           'data-section': u.section, 'data-index': u.index, tabindex: 0, role: 'button',
                           'aria-label': `${W.KIND[u.section]} ${u.c.name} at ${bus.name}`}, this.layers.units);
        const stub = el('line', {class: 'stub'}, g);
        const sym = el('g', {class: 'sym'}, g);
        this.glyph(sym, u.section, u.c);
        el('title', {}, g).textContent = this.unitTip(u.section, u.c);
        nodes.units.push({g, stub, sym, bus: i, j, n: units.length});
      });
      const row = this.pf && this.pf.bus.get(bus.name);
      const g = el('g', {class: `bus${bus.type === 'ref' ? ' ref' : ''}${isSel('buses', i) ? ' selected' : ''}${this.pending === bus.name ? ' pending' : ''}`,
                         'data-section': 'buses', 'data-index': i, 'data-bus': bus.name, tabindex: 0, role: 'button',
                         'aria-label': `bus ${bus.name}${row ? `, ${fmt4(row.vm_pu)} per unit` : ''}`}, this.layers.buses);
      el('circle', {r: 20, class: 'hit'}, g);
      const c = el('circle', {r: bus.type === 'ref' ? 11 : 9, class: 'node'}, g);
      el('text', {x: 13, y: -10, class: 'label'}, g).textContent = bus.name;
      let tip = `${bus.name} (${bus.type || 'pq'}${bus.base_kv ? `, ${bus.base_kv} kV` : ''})`;
      if (row) {
        g.dataset.vm = fmt4(row.vm_pu);
        g.dataset.va = fmt4(row.va_deg);
        c.style.fill = vmColor(row.vm_pu);
        el('text', {x: 13, y: 18, class: 'vm'}, g).textContent = `${fmt4(row.vm_pu)} p.u.`;
        tip += `\nVm ${fmt4(row.vm_pu)} p.u., Va ${fmt4(row.va_deg)}°`;
      }
      el('title', {}, g).textContent = tip;
      nodes.buses.push({g, i});
    });
    this.nodes = nodes;
    document.getElementById('canvas-hint').hidden = w.buses.length > 0;
    this.position();
    this.updateButtons();
    if (kept) (this.svg.querySelector(kept) || this.svg).focus({preventScroll: true});
  }

  glyph(g, section, c) {
    switch (section) {
      case 'loads':
        el('path', {d: 'M-8,-6 L8,-6 L0,8 Z', class: 'shape'}, g);
        break;
      case 'thermals':
        el('circle', {r: 9, class: 'shape'}, g);
        el('text', {y: 4, 'text-anchor': 'middle', class: 'glyph-text'}, g).textContent = 'G';
        break;
      case 'renewables':
        el('circle', {r: 9, class: 'shape'}, g);
        el('text', {y: 4, 'text-anchor': 'middle', class: 'glyph-text'}, g).textContent =
            {solar: 'S', wind: 'W', hydro: 'H'}[c.technology] || 'R';
        break;
      default:
        el('rect', {x: -9, y: -6, width: 18, height: 12, class: 'shape'}, g);
        el('text', {y: 4, 'text-anchor': 'middle', class: 'glyph-text'}, g).textContent = 'B';
    }
  }

  unitTip(section, c) {
    switch (section) {
      case 'loads': return `load ${c.name}: ${c.p} MW, ${c.q || 0} MVAr`;
      case 'thermals': return `generator ${c.name}: ${c.pmin || 0}..${c.pmax} MW`;
      case 'renewables': return `${c.technology || 'renewable'} ${c.name}: ${c.rating} MW`;
      default: return `storage ${c.name}: ${c.energy_mwh} MWh, ${c.charge_mw}/${c.discharge_mw} MW`;
    }
  }

  loading(br, row) {
    const sf = Math.hypot(row.pf_mw || 0, row.qf_mvar || 0);
    const st = Math.hypot(row.pt_mw || 0, row.qt_mvar || 0);
    const s = Math.max(sf, st);
    return {mva: s, pct: br.rate_a > 0 ? (100 * s) / br.rate_a : null};
  }

  sx(x) {
    return x * this.view.k + this.view.tx;
  }
  sy(y) {
    return y * this.view.k + this.view.ty;
  }

  // Moves every symbol to its screen place (after a pan, a zoom or a drag).
  position() {
    if (!this.nodes) return;
    const bs = this.world.buses;
    const P = bs.map((b) => [this.sx(b.x), this.sy(b.y)]);
    for (const n of this.nodes.buses) n.g.setAttribute('transform', `translate(${P[n.i][0]},${P[n.i][1]})`);
    for (const n of this.nodes.branches) {
      const [x1, y1] = P[n.a];
      const [x2, y2] = P[n.b];
      for (const l of [n.hit, n.ln]) {
        l.setAttribute('x1', x1);
        l.setAttribute('y1', y1);
        l.setAttribute('x2', x2);
        l.setAttribute('y2', y2);
      }
      if (n.extra.length) {
        const dx = x2 - x1;
        const dy = y2 - y1;
        const len = Math.hypot(dx, dy) || 1;
        const mx = (x1 + x2) / 2;
        const my = (y1 + y2) / 2;
        n.extra[0].setAttribute('cx', mx - (dx / len) * 4);
        n.extra[0].setAttribute('cy', my - (dy / len) * 4);
        n.extra[1].setAttribute('cx', mx + (dx / len) * 4);
        n.extra[1].setAttribute('cy', my + (dy / len) * 4);
      }
    }
    for (const n of this.nodes.units) {
      const [x, y] = P[n.bus];
      const a = Math.PI / 2 + (n.j - (n.n - 1) / 2) * 0.55;
      const ux = x + 36 * Math.cos(a);
      const uy = y + 36 * Math.sin(a);
      n.stub.setAttribute('x1', x);
      n.stub.setAttribute('y1', y);
      n.stub.setAttribute('x2', ux);
      n.stub.setAttribute('y2', uy);
      n.sym.setAttribute('transform', `translate(${ux},${uy})`);
    }
    // Labels and units only where there is room for them (a case118 fitted on a phone has none).
    let compact = false;
    if (bs.length > 2) {
      const xs = bs.map((b) => b.x);
      const ys = bs.map((b) => b.y);
      const area = (Math.max(...xs) - Math.min(...xs) || 1) * (Math.max(...ys) - Math.min(...ys) || 1);
      compact = Math.sqrt(area / bs.length) * this.view.k < 55;
    }
    this.svg.classList.toggle('compact', compact);
  }

  size() {
    const r = this.svg.getBoundingClientRect();
    return {w: r.width || 800, h: r.height || 600};
  }

  fit() {
    const bs = this.world.buses;
    const {w, h} = this.size();
    if (!bs.length) {
      this.view = {k: 1, tx: w / 2, ty: h / 2};
      this.position();
      return;
    }
    const xs = bs.map((b) => b.x);
    const ys = bs.map((b) => b.y);
    const x0 = Math.min(...xs);
    const x1 = Math.max(...xs);
    const y0 = Math.min(...ys);
    const y1 = Math.max(...ys);
    // Room for the symbols around the buses, and for the names on their right.
    const pad = 50;
    const right = 90;
    let k = Math.min((w - 2 * pad - right) / Math.max(x1 - x0, 1e-9), (h - 2 * pad) / Math.max(y1 - y0, 1e-9));
    if (!Number.isFinite(k) || k <= 0) k = 1;
    if (bs.length < 2 || x1 - x0 + y1 - y0 < 1e-9) k = 1;
    k = Math.min(k, 4);
    this.view = {k, tx: (w - right) / 2 - k * (x0 + x1) / 2, ty: h / 2 - k * (y0 + y1) / 2};
    this.position();
  }

  zoomAt(factor, px, py) {
    const v = this.view;
    const k = Math.max(1e-4, Math.min(1e4, v.k * factor));
    const f = k / v.k;
    this.view = {k, tx: px - (px - v.tx) * f, ty: py - (py - v.ty) * f};
    this.position();
  }

  // ------------------------------------------------------------------ pointer and keyboard

  local(ev) {
    const r = this.svg.getBoundingClientRect();
    return [ev.clientX - r.left, ev.clientY - r.top];
  }

  bind() {
    const svg = this.svg;
    svg.addEventListener('pointerdown', (ev) => this.down(ev));
    svg.addEventListener('pointermove', (ev) => this.move(ev));
    svg.addEventListener('pointerup', (ev) => this.up(ev));
    svg.addEventListener('pointercancel', (ev) => this.up(ev, true));
    svg.addEventListener('wheel', (ev) => {
      ev.preventDefault();
      const [x, y] = this.local(ev);
      this.zoomAt(Math.exp(-ev.deltaY * 0.0015), x, y);
    }, {passive: false});
    svg.addEventListener('keydown', (ev) => {
      const t = ev.target.closest && ev.target.closest('[data-section]');
      if ((ev.key === 'Enter' || ev.key === ' ') && t) {
        ev.preventDefault();
        this.activate(t);
      } else if ((ev.key === 'Enter' || ev.key === ' ') && ev.target === svg && this.tool === 'bus') {
        // From the keyboard, a new bus goes near the middle of the view (then arrows move it).
        ev.preventDefault();
        const {w, h} = this.size();
        const n = this.world.buses.length;
        this.apply((w / 2 + 30 * (n % 5) - this.view.tx) / this.view.k, (h / 2 + 30 * Math.floor(n / 5) % 150 - this.view.ty) / this.view.k, null);
      }
    });
    window.addEventListener('resize', () => this.position());
    // When the canvas changes size (the day-ahead results open below it and close, the window is
    // resized) the view is scaled about its centre, so that what was in view stays in view.
    if (typeof ResizeObserver !== 'undefined') {
      let last = null;
      new ResizeObserver(() => {
        const r = svg.getBoundingClientRect();
        if (!(r.width > 0 && r.height > 0)) return; // hidden (the dashboard is shown)
        if (last && (r.width !== last.w || r.height !== last.h)) {
          const f = Math.min(r.width / last.w, r.height / last.h);
          this.view.tx = r.width / 2 + (this.view.tx - last.w / 2) * f;
          this.view.ty = r.height / 2 + (this.view.ty - last.h / 2) * f;
          this.view.k *= f;
          this.position();
        }
        last = {w: r.width, h: r.height};
      }).observe(svg);
    }
    document.addEventListener('keydown', (ev) => this.key(ev));
    for (const b of document.querySelectorAll('.tool')) b.addEventListener('click', () => this.setTool(b.dataset.tool));
    const on = (id, fn) => document.getElementById(id).addEventListener('click', fn);
    on('btn-undo', () => this.undo());
    on('btn-redo', () => this.redo());
    on('btn-delete', () => this.deleteSelection());
    on('btn-fit', () => this.fit());
    on('btn-new', () => {
      this.setWorld(W.emptyWorld(), {keepHistory: true});
      this.status('An empty world: add a bus from the palette.');
    });
    on('btn-save', () => this.save());
    on('btn-download', () => this.download());
    on('btn-layout', () => this.layout());
    on('btn-pf', () => this.runPf());
    on('btn-day', () => this.runDay());
    on('btn-cancel-job', () => this.job && this.job.abort());
    on('day-close', () => { document.getElementById('day-results').hidden = true; });
    on('toggle-palette', () => this.openDrawer('palette'));
    on('toggle-panel', () => this.openDrawer('panel'));
    document.getElementById('show-labels').addEventListener('change', (ev) => svg.classList.toggle('nolabels', !ev.target.checked));
    document.getElementById('world-list').addEventListener('change', (ev) => ev.target.value && this.open(ev.target.value));
    document.getElementById('world-list').addEventListener('focus', () => this.refreshList());
    document.getElementById('world-name').addEventListener('change', (ev) => {
      const name = ev.target.value.trim();
      this.edit('rename world', (w) => { w.name = name; });
    });
    document.getElementById('file-world').addEventListener('change', (ev) => this.upload(ev.target));
    document.getElementById('file-matpower').addEventListener('change', (ev) => this.importMatpower(ev.target));
    document.getElementById('props').addEventListener('submit', (ev) => ev.preventDefault());
    this.history.onChange(() => this.updateButtons());
    this.setTool('select');
    this.status('');
  }

  openDrawer(id, force) {
    const d = document.getElementById(id);
    const open = force === undefined ? !d.classList.contains('open') : force;
    d.classList.toggle('open', open);
    document.getElementById(id === 'palette' ? 'toggle-palette' : 'toggle-panel').setAttribute('aria-expanded', String(open));
  }

  activate(target) {
    const s = target.dataset.section;
    const i = Number(target.dataset.index);
    const name = s === 'buses' ? this.world.buses[i].name : null;
    if (this.tool === 'select' || this.tool === 'bus' || s !== 'buses') this.select(s, i);
    else {
      const b = this.world.buses[i];
      this.apply(b.x, b.y, name);
    }
  }

  down(ev) {
    this.svg.setPointerCapture(ev.pointerId);
    const [x, y] = this.local(ev);
    this.pointers.set(ev.pointerId, {x, y, x0: x, y0: y});
    if (this.pointers.size === 2) {
      // Pinch: zoom and pan with two fingers; whatever one finger began is dropped.
      this.drag = null;
      const [a, b] = [...this.pointers.values()];
      this.pinch = {d: Math.hypot(a.x - b.x, a.y - b.y), cx: (a.x + b.x) / 2, cy: (a.y + b.y) / 2};
      return;
    }
    const t = ev.target.closest('[data-section]');
    this.drag = {target: t, moved: false, x0: x, y0: y, view: {...this.view}, before: null};
    if (t && t.dataset.section === 'buses' && this.tool === 'select') {
      const i = Number(t.dataset.index);
      this.drag.bus = i;
      this.drag.before = this.snapshot();
      this.drag.bx = this.world.buses[i].x;
      this.drag.by = this.world.buses[i].y;
    }
  }

  move(ev) {
    const p = this.pointers.get(ev.pointerId);
    const [x, y] = this.local(ev);
    if (!p) {
      if (this.pending && this.tool !== 'select') this.ghost(x, y);
      return;
    }
    p.x = x;
    p.y = y;
    if (this.pinch && this.pointers.size === 2) {
      const [a, b] = [...this.pointers.values()];
      const d = Math.hypot(a.x - b.x, a.y - b.y);
      const cx = (a.x + b.x) / 2;
      const cy = (a.y + b.y) / 2;
      this.view.tx += cx - this.pinch.cx;
      this.view.ty += cy - this.pinch.cy;
      this.zoomAt(d / (this.pinch.d || d || 1), cx, cy);
      this.pinch = {d, cx, cy};
      return;
    }
    const dr = this.drag;
    if (!dr) return;
    if (!dr.moved && Math.hypot(x - dr.x0, y - dr.y0) < 5) return;
    dr.moved = true;
    if (dr.bus !== undefined) {
      const b = this.world.buses[dr.bus];
      b.x = dr.bx + (x - dr.x0) / this.view.k;
      b.y = dr.by + (y - dr.y0) / this.view.k;
      this.position();
    } else if (!dr.target || this.tool === 'select') {
      this.view = {k: dr.view.k, tx: dr.view.tx + x - dr.x0, ty: dr.view.ty + y - dr.y0};
      this.position();
    }
  }

  up(ev, cancelled = false) {
    this.pointers.delete(ev.pointerId);
    if (this.pinch) {
      if (this.pointers.size < 2) this.pinch = null;
      this.drag = null;
      return;
    }
    const dr = this.drag;
    this.drag = null;
    if (!dr || cancelled) return;
    if (dr.moved) {
      if (dr.bus !== undefined) {
        const b = this.world.buses[dr.bus];
        b.x = Math.round(b.x * 10) / 10;
        b.y = Math.round(b.y * 10) / 10;
        this.history.push(`move ${b.name}`, dr.before);
        this.keepDraft();
        this.render();
        this.renderPanel();
      }
      return;
    }
    const [x, y] = this.local(ev);
    const wx = (x - this.view.tx) / this.view.k;
    const wy = (y - this.view.ty) / this.view.k;
    const t = dr.target;
    if (this.tool === 'select') {
      if (t) this.select(t.dataset.section, Number(t.dataset.index));
      else this.select(null);
      return;
    }
    const bus = t && t.dataset.section === 'buses' ? this.world.buses[Number(t.dataset.index)].name : null;
    this.apply(wx, wy, bus);
  }

  ghost(x, y) {
    const b = this.world.buses.find((o) => o.name === this.pending);
    if (!b) return;
    this.layers.ghost.replaceChildren();
    el('line', {x1: this.sx(b.x), y1: this.sy(b.y), x2: x, y2: y, class: 'ghost'}, this.layers.ghost);
  }

  key(ev) {
    if (document.getElementById('view-designer').hidden) return;
    const inField = ev.target.closest && ev.target.closest('input, select, textarea');
    const mod = ev.ctrlKey || ev.metaKey;
    if (mod && (ev.key === 'z' || ev.key === 'Z') && !inField) {
      ev.preventDefault();
      if (ev.shiftKey) this.redo();
      else this.undo();
      return;
    }
    if (mod && (ev.key === 'y' || ev.key === 'Y') && !inField) {
      ev.preventDefault();
      this.redo();
      return;
    }
    const k = ev.key;
    if (k === 'Escape') {
      // Esc from anywhere: back to selecting, nothing selected, the focus on the canvas.
      this.setTool('select');
      this.select(null);
      this.svg.focus();
      return;
    }
    if (inField || mod || ev.altKey) return;
    if (k === 'Delete' || k === 'Backspace') {
      if (this.sel) {
        ev.preventDefault();
        this.deleteSelection();
      }
    } else if (k === 'f' || k === 'F') this.fit();
    else if (k === '+' || k === '=') this.zoomAt(1.25, this.size().w / 2, this.size().h / 2);
    else if (k === '-') this.zoomAt(0.8, this.size().w / 2, this.size().h / 2);
    else if (k === 'b' || k === 'B') this.setTool('bus');
    else if (k === 'l' || k === 'L') this.setTool('line');
    else if (k === 't' || k === 'T') this.setTool('transformer');
    else if (k.startsWith('Arrow') && this.sel && this.sel.section === 'buses') {
      ev.preventDefault();
      const d = (ev.shiftKey ? 50 : 10) / this.view.k;
      const i = this.sel.index;
      this.edit(`move ${this.world.buses[i].name}`, (w) => {
        const b = w.buses[i];
        if (k === 'ArrowLeft') b.x -= d;
        if (k === 'ArrowRight') b.x += d;
        if (k === 'ArrowUp') b.y -= d;
        if (k === 'ArrowDown') b.y += d;
      });
      const g = this.svg.querySelector(`.bus[data-index="${i}"]`);
      if (g) g.focus();
    }
  }

  updateButtons() {
    const u = document.getElementById('btn-undo');
    const r = document.getElementById('btn-redo');
    u.disabled = !this.history.canUndo();
    r.disabled = !this.history.canRedo();
    u.title = u.disabled ? 'Undo (Ctrl+Z)' : `Undo ${this.history.undoLabel()} (Ctrl+Z)`;
    r.title = r.disabled ? 'Redo (Ctrl+Shift+Z)' : `Redo ${this.history.redoLabel()} (Ctrl+Shift+Z)`;
    document.getElementById('btn-delete').disabled = !this.sel;
  }

  status(msg) {
    document.getElementById('status').textContent = msg;
  }

  // ------------------------------------------------------------------ side panel

  renderPanel() {
    const form = document.getElementById('props');
    form.replaceChildren();
    this.fieldNodes = [];
    const h = document.createElement('h2');
    form.appendChild(h);
    if (!this.sel) {
      h.textContent = 'World';
      for (const f of W.WORLD_FIELDS) this.fieldRow(form, this.world, f, 'world');
      this.profilesEditor(form);
      const p = document.createElement('p');
      p.className = 'muted';
      const w = this.world;
      p.textContent = `${w.buses.length} buses, ${w.branches.length} branches, ${w.loads.length} loads, ` +
          `${w.thermals.length} generators, ${w.renewables.length} renewables, ${w.storages.length} storage units. ` +
          'Select an item on the canvas to edit it.';
      form.appendChild(p);
    } else {
      const {section, index} = this.sel;
      const c = this.world[section][index];
      h.textContent = `${W.KIND[section][0].toUpperCase()}${W.KIND[section].slice(1)}: ${c.name}`;
      for (const f of W.FIELDS[section]) this.fieldRow(form, c, f, section);
      const del = document.createElement('button');
      del.type = 'button';
      del.textContent = `Delete this ${W.KIND[section]}`;
      del.className = 'danger';
      del.addEventListener('click', () => this.deleteSelection());
      form.appendChild(del);
    }
    this.updateProblems();
    this.renderPfSummary();
    this.updateButtons();
  }

  fieldRow(form, c, f, section) {
    const id = `f-${section}-${f.key}`;
    const row = document.createElement('div');
    row.className = 'field';
    const label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = f.label;
    if (f.unit) {
      const u = document.createElement('span');
      u.className = 'unit';
      u.textContent = ` (${f.unit})`;
      label.appendChild(u);
    }
    row.appendChild(label);
    let input;
    const val = W.fieldValue(c, f);
    if (f.type === 'select' || f.type === 'bus' || f.type === 'series') {
      input = document.createElement('select');
      let opts;
      if (f.type === 'select') opts = f.options.map((o) => [o, o]);
      else if (f.type === 'bus') opts = this.world.buses.map((b) => [b.name, b.name]);
      else opts = [['', '(constant)'], ...this.world.series.map((s) => [s.name, s.name])];
      for (const [v, t] of opts) {
        const o = document.createElement('option');
        o.value = v;
        o.textContent = t;
        input.appendChild(o);
      }
      input.value = val === null || val === undefined ? '' : val;
    } else if (f.type === 'bool') {
      input = document.createElement('input');
      input.type = 'checkbox';
      input.checked = val !== false;
      row.classList.add('check');
    } else {
      input = document.createElement('input');
      input.type = 'text';
      if (f.type === 'number') input.inputMode = 'decimal';
      if (f.type === 'cost') {
        input.value = val && val.model === 'polynomial' ? val.coef.join(', ') : val && val.model === 'piecewise' ? 'piecewise (kept)' : '';
        if (val && val.model === 'piecewise') input.readOnly = true;
        input.placeholder = 'none';
      } else {
        input.value = val === null || val === undefined ? '' : String(val);
      }
      if (f.def !== undefined && f.def !== null && f.type !== 'text') input.placeholder = String(f.def);
    }
    input.id = id;
    input.name = f.key;
    input.autocomplete = 'off';
    const prob = document.createElement('span');
    prob.className = 'problem';
    prob.id = `${id}-problem`;
    prob.setAttribute('aria-live', 'polite');
    input.setAttribute('aria-describedby', prob.id);
    if (f.help) input.title = f.help;
    row.appendChild(input);
    row.appendChild(prob);
    form.appendChild(row);
    this.fieldNodes.push({f, input, prob, section, raw: null});
    const node = this.fieldNodes[this.fieldNodes.length - 1];
    input.addEventListener('change', () => this.fieldChanged(node));
  }

  fieldChanged(node) {
    const {f, input, section} = node;
    const target = section === 'world' ? null : this.sel;
    const c = section === 'world' ? this.world : this.world[target.section][target.index];
    let val;
    node.raw = null;
    if (f.type === 'bool') val = input.checked;
    else if (f.type === 'series') val = input.value || null;
    else if (f.type === 'cost') {
      const t = input.value.trim();
      if (!t) val = null;
      else {
        const coef = t.split(/[\s,;]+/).filter(Boolean).map(Number);
        if (coef.some((x) => !Number.isFinite(x))) {
          node.raw = 'numbers separated by commas: c0, c1, c2 (lowest power first)';
          this.updateProblems();
          return;
        }
        val = {model: 'polynomial', coef};
      }
    } else if (f.type === 'number' || f.type === 'qlim') {
      const t = input.value.trim();
      if (t === '') val = undefined;
      else if (f.type === 'qlim' && (t === 'inf' || t === '-inf')) val = t;
      else {
        val = Number(t);
        if (!Number.isFinite(val)) {
          node.raw = f.type === 'qlim' ? 'a number, "inf" or "-inf"' : 'must be a finite number';
          this.updateProblems();
          return;
        }
      }
    } else val = input.value;
    const old = c[f.key];
    this.edit(`${f.key} of ${c.name || 'world'}`, (w) => {
      const cc = section === 'world' ? w : w[target.section][target.index];
      if (val === undefined || (val === null && f.def === null)) delete cc[f.key];
      else cc[f.key] = val;
      if (section === 'buses' && f.key === 'name' && val && old !== val && !w.buses.some((b, i) => b.name === val && i !== target.index)) {
        W.renameBus(w, old, val);
      }
    }, {panel: false});
    if (section === 'world' && f.key === 'name') document.getElementById('world-name').value = val || '';
  }

  updateProblems() {
    if (!this.fieldNodes) return;
    for (const n of this.fieldNodes) {
      let m = n.raw || '';
      if (!m && n.section !== 'world') {
        const c = this.world[this.sel.section][this.sel.index];
        m = W.checkComponent(n.section, c, this.world)[n.f.key] || '';
      } else if (!m && n.section === 'world') {
        m = W.checkField(this.world, n.f, this.world);
      }
      const sp = this.serverProblem;
      if (!m && sp && this.sel && sp.section === this.sel.section && sp.index === this.sel.index && sp.key === n.f.key) m = sp.message;
      n.prob.textContent = m;
      n.input.setAttribute('aria-invalid', m ? 'true' : 'false');
    }
  }

  profilesEditor(form) {
    const row = document.createElement('div');
    row.className = 'field';
    const label = document.createElement('label');
    label.htmlFor = 'f-series';
    label.textContent = 'Profiles (one a line: name: v0, v1, ...)';
    const ta = document.createElement('textarea');
    ta.id = 'f-series';
    ta.rows = 3;
    ta.value = this.world.series.map((s) => `${s.name}: ${s.values.join(', ')}`).join('\n');
    ta.title = 'Multipliers of load P/Q, or availability of renewables (0..1), one value per hour';
    const prob = document.createElement('span');
    prob.className = 'problem';
    prob.id = 'f-series-problem';
    ta.setAttribute('aria-describedby', prob.id);
    ta.addEventListener('change', () => {
      const out = [];
      for (const [i, line] of ta.value.split('\n').entries()) {
        if (!line.trim()) continue;
        const m = line.match(/^\s*([^:]+?)\s*:\s*(.*)$/);
        const vals = m ? m[2].split(/[\s,;]+/).filter(Boolean).map(Number) : [];
        if (!m || !vals.length || vals.some((x) => !Number.isFinite(x))) {
          prob.textContent = `line ${i + 1}: write name: v0, v1, ... with numbers`;
          return;
        }
        const old = this.world.series.find((s) => s.name === m[1]);
        out.push({...(old || {}), name: m[1], values: vals});
      }
      prob.textContent = '';
      this.edit('profiles', (w) => { w.series = out; });
    });
    row.append(label, ta, prob);
    form.appendChild(row);
  }

  renderPfSummary() {
    const box = document.getElementById('pf-summary');
    box.replaceChildren();
    if (!this.pf) return;
    const d = this.pf.doc;
    const h = document.createElement('h2');
    h.textContent = 'Power flow';
    const p = document.createElement('p');
    p.id = 'pf-converged';
    const t = d.totals || {};
    p.textContent = `${d.converged ? 'Converged' : 'Did not converge'} in ${d.iterations} iterations; ` +
        `generation ${fmt2(t.gen_mw)} MW, load ${fmt2(t.load_mw)} MW, losses ${fmt2(t.loss_mw)} MW.` + (d.reason ? ` ${d.reason}` : '');
    box.append(h, p);
    if (this.sel && this.sel.section === 'branches') {
      const br = this.world.branches[this.sel.index];
      const row = this.pf.branch.get(this.sel.index);
      if (row) {
        const s = this.loading(br, row);
        const q = document.createElement('p');
        q.id = 'pf-branch';
        q.textContent = `${br.name}: from end ${fmt2(row.pf_mw)} MW, ${fmt2(row.qf_mvar)} MVAr; to end ${fmt2(row.pt_mw)} MW, ` +
            `${fmt2(row.qt_mvar)} MVAr; losses ${fmt2(row.loss_mw)} MW` + (s.pct !== null ? `; loading ${s.pct.toFixed(1)} %` : '');
        box.appendChild(q);
      }
    }
    const tw = document.createElement('div');
    tw.className = 'table-wrap';
    const table = document.createElement('table');
    table.id = 'pf-buses';
    const head = table.createTHead().insertRow();
    for (const c of ['Bus', 'Vm (p.u.)', 'Va (deg)']) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = c;
      head.appendChild(th);
    }
    const body = table.createTBody();
    for (const b of d.buses || []) {
      const r = body.insertRow();
      r.dataset.bus = b.name;
      if (this.sel && this.sel.section === 'buses' && this.world.buses[this.sel.index].name === b.name) r.className = 'selected';
      r.insertCell().textContent = b.name;
      const vm = r.insertCell();
      vm.textContent = fmt4(b.vm_pu);
      vm.className = 'vm';
      r.insertCell().textContent = fmt4(b.va_deg);
    }
    tw.appendChild(table);
    box.appendChild(tw);
  }

  // ------------------------------------------------------------------ files and the server

  async refreshList() {
    const sel = document.getElementById('world-list');
    try {
      const r = await api.get('/api/worlds');
      const cur = sel.value;
      sel.replaceChildren();
      const o0 = document.createElement('option');
      o0.value = '';
      o0.textContent = (r.worlds || []).length ? 'choose…' : '(none saved)';
      sel.appendChild(o0);
      for (const w of r.worlds || []) {
        const o = document.createElement('option');
        o.value = w.name;
        o.textContent = `${w.name} (${w.buses} buses)`;
        sel.appendChild(o);
      }
      sel.value = cur;
    } catch (e) {
      if (e.status !== 404) api.showError(e, 'listing the saved worlds');
    }
  }

  async open(name) {
    try {
      const doc = await api.get(`/api/worlds/${encodeURIComponent(name)}`);
      await this.load(doc, name);
      this.status(`Opened ${name}.`);
    } catch (e) {
      api.showError(e, `opening ${name}`);
    }
    document.getElementById('world-list').value = '';
  }

  // Loads a document; buses without a position get one from the server's layout.
  async load(doc, fallbackName) {
    const w = W.fromDocument(doc);
    if (!w.name && fallbackName) w.name = fallbackName;
    if (w.buses.some((b) => !Number.isFinite(b.x) || !Number.isFinite(b.y))) {
      try {
        const r = await api.post('/api/layout', {world: W.toDocument(w), all: false});
        const placed = W.fromDocument(r.world || r);
        placed.buses.forEach((b, i) => {
          if (w.buses[i]) {
            w.buses[i].x = b.x;
            w.buses[i].y = b.y;
          }
        });
      } catch (e) {
        this.status(`Could not lay out on the server (${e.message}); placed on a circle.`);
      }
    }
    this.setWorld(w, {keepHistory: true});
    api.clearError();
  }

  worldName() {
    const input = document.getElementById('world-name');
    const name = input.value.trim() || this.world.name || '';
    if (!NAME_RE.test(name)) {
      throw new Error(`the name "${name}" cannot be a file name on the server: use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'`);
    }
    return name;
  }

  async save() {
    let name;
    try {
      name = this.worldName();
    } catch (e) {
      api.showError(e, 'saving');
      document.getElementById('world-name').focus();
      return;
    }
    const p = W.firstProblem(this.world);
    if (p) {
      if (p.section) this.select(p.section, p.index);
      api.showError(new Error(p.message), 'not saved');
      return;
    }
    if (this.world.name !== name) this.edit('rename world', (w) => { w.name = name; });
    try {
      const r = await api.put(`/api/worlds/${encodeURIComponent(name)}`, W.toDocument(this.world));
      api.clearError();
      this.status(`Saved ${r.name || name} (${r.buses} buses, ${r.branches} branches).`);
      this.refreshList();
    } catch (e) {
      this.serverError(e, 'saving');
    }
  }

  // Shows a server error, and next to its field when it names one ("$.buses[2].vmax").
  serverError(e, context) {
    api.showError(e, context);
    // "$.buses[2].vmax" (a saved world) or "$.world.buses[2].vmax" (the world in a job's body).
    const re = /\$\.(?:world\.)?(\w+)\[(\d+)\](?:\.(\w+))?/;
    const m = re.exec(e.path || '') || re.exec(e.message || '');
    if (m && W.FIELDS[m[1]] && this.world[m[1]][Number(m[2])]) {
      this.select(m[1], Number(m[2]));
      this.serverProblem = {section: m[1], index: Number(m[2]), key: m[3] || 'name', message: e.message};
      this.updateProblems();
    }
  }

  download() {
    const doc = W.toDocument(this.world);
    const blob = new Blob([JSON.stringify(doc, null, 2) + '\n'], {type: 'application/json'});
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${this.world.name || 'world'}.json`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  async upload(input) {
    const file = input.files && input.files[0];
    input.value = '';
    if (!file) return;
    try {
      const text = await file.text();
      let doc;
      try {
        doc = JSON.parse(text);
      } catch (e) {
        // a MATPOWER case picked with the wrong button says which button it needs
        if (/\.m$/i.test(file.name) || /^\s*(%|function\b)/.test(text)) {
          throw new Error(`${file.name} is a MATPOWER case, not a plurigrid world (JSON): open it with Import MATPOWER`);
        }
        throw new Error(`${file.name}: not JSON (${e.message})`);
      }
      await this.load(doc, file.name.replace(/\.json$/i, ''));
      this.status(`Opened ${file.name}.`);
    } catch (e) {
      api.showError(e, 'opening the file');
    }
  }

  async importMatpower(input) {
    const file = input.files && input.files[0];
    input.value = '';
    if (!file) return;
    const name = file.name.replace(/\.m$/i, '').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\./, '_').slice(0, 64) || 'case';
    this.status(`Importing ${file.name}…`);
    try {
      const text = await file.text();
      if (/^\s*\{/.test(text)) {
        throw new Error(`${file.name} is JSON, not a MATPOWER case (.m): open a plurigrid world with Upload`);
      }
      const r = await api.post(`/api/import?name=${encodeURIComponent(name)}`, text);
      const w = W.fromDocument(r.world || r);
      if (!w.name) w.name = name;
      this.setWorld(w, {keepHistory: true});
      api.clearError();
      const notes = (r.notes || []).length ? ` Notes: ${r.notes.join(' ')}` : '';
      this.status(`Imported ${file.name}: ${w.buses.length} buses, ${w.branches.length} branches.${notes}`);
    } catch (e) {
      api.showError(e, `importing ${file.name}`);
      this.status('');
    }
  }

  async layout() {
    try {
      const r = await api.post('/api/layout', {world: W.toDocument(this.world), all: true});
      const placed = W.fromDocument(r.world || r);
      this.edit('lay out', (w) => placed.buses.forEach((b, i) => {
        if (w.buses[i]) {
          w.buses[i].x = b.x;
          w.buses[i].y = b.y;
        }
      }));
      this.fit();
    } catch (e) {
      api.showError(e, 'laying out');
    }
  }

  // ------------------------------------------------------------------ jobs

  async job_(kind, path, body) {
    if (this.job) return null;
    const p = W.firstProblem(this.world);
    if (p) {
      if (p.section) this.select(p.section, p.index);
      api.showError(new Error(p.message), `cannot run the ${kind}`);
      return null;
    }
    const ctl = new AbortController();
    this.job = ctl;
    const cancel = document.getElementById('btn-cancel-job');
    cancel.hidden = false;
    for (const id of ['btn-pf', 'btn-day']) document.getElementById(id).disabled = true;
    this.status(`${kind}: submitting…`);
    try {
      const r = await api.runJob(path, body, (j) => {
        const pr = j.progress && j.progress.total ? ` ${Math.round((100 * j.progress.done) / j.progress.total)} %` : '';
        this.status(`${kind}: ${j.status}${pr}`);
      }, ctl.signal);
      api.clearError();
      return r.result;
    } catch (e) {
      if (ctl.signal.aborted) this.status(`${kind}: cancelled`);
      else {
        this.serverError(e, kind);
        this.status(`${kind}: failed`);
      }
      return null;
    } finally {
      this.job = null;
      cancel.hidden = true;
      for (const id of ['btn-pf', 'btn-day']) document.getElementById(id).disabled = false;
    }
  }

  async runPf() {
    const doc = await this.job_('power flow', '/api/jobs/pf', {world: W.toDocument(this.world)});
    if (!doc) return;
    const bus = new Map();
    for (const b of doc.buses || []) bus.set(b.name, b);
    const branch = new Map();
    (doc.branches || []).forEach((b, i) => branch.set(i, b));
    this.pf = {doc, bus, branch};
    const vms = (doc.buses || []).map((b) => b.vm_pu).filter(Number.isFinite);
    document.getElementById('legend').hidden = false;
    this.render();
    this.renderPfSummary();
    this.status(`Power flow ${doc.converged ? 'converged' : 'did not converge'}: Vm ${fmt4(Math.min(...vms))} to ${fmt4(Math.max(...vms))} p.u.`);
  }

  async runDay() {
    const doc = await this.job_('day ahead', '/api/jobs/run', {world: W.toDocument(this.world)});
    if (!doc) return;
    const box = document.getElementById('day-results');
    box.hidden = false;
    const hours = (doc.step && doc.step.hour) || [];
    const series = [];
    for (const t of doc.thermal || []) series.push({name: t.name, values: t.p, kind: 'area'});
    for (const r of doc.renewable || []) series.push({name: r.name, values: r.p, kind: 'area'});
    for (const s of doc.storage || []) series.push({name: s.name, values: s.discharge, kind: 'area'});
    const n = hours.length;
    const demand = new Array(n).fill(0);
    for (const b of doc.bus || []) (b.demand || []).forEach((x, i) => { demand[i] += x || 0; });
    series.push({name: 'demand', values: demand, kind: 'step', color: '#000', dash: '4 3'});
    chart(document.getElementById('chart-stack'), {x: hours, series: series.map((s) => ({...s, kind: s.kind === 'area' ? 'area' : s.kind})),
                                                   xLabel: 'hour', yLabel: 'MW', title: 'Dispatch'});
    const price = [{name: 'system', values: (doc.step && doc.step.energy_price) || [], kind: 'step'}];
    const selBus = this.sel && this.sel.section === 'buses' ? this.world.buses[this.sel.index].name : null;
    const lmpBus = (doc.bus || []).find((b) => b.name === selBus) || null;
    if (lmpBus && lmpBus.lmp) price.push({name: `LMP ${lmpBus.name}`, values: lmpBus.lmp, kind: 'step', dash: '5 3'});
    chart(document.getElementById('chart-price'), {x: hours, series: price, xLabel: 'hour', yLabel: '$/MWh', title: 'Price'});
    const t = doc.totals || {};
    document.getElementById('day-summary').textContent = `${doc.steps} step${doc.steps === 1 ? '' : 's'} of ${doc.step_h} h; cost $${fmt2(t.cost)}; ` +
        `unserved ${fmt2(t.unserved_mwh)} MWh, curtailed ${fmt2(t.curtailed_mwh)} MWh; commitment ${doc.commitment ? doc.commitment.status : '–'}.` +
        // a world without profiles is one step: say how to make it a day
        (doc.steps === 1 && !(this.world.series || []).length
          ? ' The world has no profiles, so the day is one step: add hourly profiles in the world\'s panel (nothing selected) and refer to them from the loads and renewables.' : '');
    this.status('Day ahead scheduled.');
    box.scrollIntoView({behavior: 'smooth', block: 'nearest'});
  }
}
