// The designer's model: a plurigrid-world/1 document (docs/world-format.md) held as plain
// objects, with the fields of each kind of component (label, unit, default, range) that the side
// panel edits and checks as the library's validation does, and the edits that keep the document
// consistent (renaming a bus renames every reference to it; deleting one deletes what hangs on it).

export const SECTIONS = ['buses', 'branches', 'loads', 'thermals', 'renewables', 'storages'];

const num = (key, label, unit, def, extra = {}) => ({key, label, unit, type: 'number', def, ...extra});

// Each field: key, label, unit, type (text | number | select | bool | bus | series | cost | qlim),
// def (the format's default: a value equal to it is left out of the document), required, and a
// check(value, component) returning a problem or ''.
export const FIELDS = {
  buses: [
    {key: 'name', label: 'Name', type: 'text', required: true},
    {key: 'type', label: 'Type', type: 'select', options: ['pq', 'pv', 'ref', 'isolated'], def: 'pq',
     help: 'pq: load bus, pv: voltage controlled, ref: the reference (slack) bus'},
    num('base_kv', 'Base voltage', 'kV', 0, {min: 0}),
    num('vm', 'Voltage magnitude (start)', 'p.u.', 1, {min: 0}),
    num('va', 'Voltage angle (start)', 'deg', 0),
    num('vmin', 'Lowest voltage', 'p.u.', 0.9, {cross: (c) => (v(c, 'vmin') > v(c, 'vmax') ? 'must be at most the highest voltage' : '')}),
    num('vmax', 'Highest voltage', 'p.u.', 1.1, {cross: (c) => (v(c, 'vmin') > v(c, 'vmax') ? 'must be at least the lowest voltage' : '')}),
    num('gs', 'Shunt conductance', 'MW', 0),
    num('bs', 'Shunt susceptance', 'MVAr', 0),
  ],
  branches: [
    {key: 'name', label: 'Name', type: 'text', required: true},
    {key: 'kind', label: 'Kind', type: 'select', options: ['line', 'transformer'], def: 'line'},
    {key: 'from', label: 'From bus', type: 'bus', required: true,
     cross: (c) => (c.from === c.to ? 'from and to must be different buses' : '')},
    {key: 'to', label: 'To bus', type: 'bus', required: true,
     cross: (c) => (c.from === c.to ? 'from and to must be different buses' : '')},
    num('r', 'Resistance', 'p.u.', 0, {cross: (c) => (v(c, 'r') === 0 && v(c, 'x') === 0 ? 'r and x cannot both be 0' : '')}),
    num('x', 'Reactance', 'p.u.', undefined, {required: true, cross: (c) => (v(c, 'r') === 0 && v(c, 'x') === 0 ? 'r and x cannot both be 0' : '')}),
    num('b', 'Line charging', 'p.u.', 0),
    num('rate_a', 'Rating (long term)', 'MVA', 0, {min: 0, help: '0: unlimited'}),
    num('tap', 'Tap ratio', 'p.u.', 1, {gt: 0}),
    num('shift', 'Phase shift', 'deg', 0),
    {key: 'in_service', label: 'In service', type: 'bool', def: true},
  ],
  loads: [
    {key: 'name', label: 'Name', type: 'text', required: true},
    {key: 'bus', label: 'Bus', type: 'bus', required: true},
    num('p', 'Active power', 'MW', undefined, {required: true}),
    num('q', 'Reactive power', 'MVAr', 0),
    {key: 'p_series', label: 'P profile', type: 'series', def: null},
    {key: 'q_series', label: 'Q profile', type: 'series', def: null},
    {key: 'in_service', label: 'In service', type: 'bool', def: true},
  ],
  thermals: [
    {key: 'name', label: 'Name', type: 'text', required: true},
    {key: 'bus', label: 'Bus', type: 'bus', required: true},
    num('p', 'Active power setpoint', 'MW', 0),
    num('pmin', 'Lowest output', 'MW', 0, {cross: (c) => (v(c, 'pmin') > v(c, 'pmax') ? 'must be at most the highest output' : '')}),
    num('pmax', 'Highest output', 'MW', undefined, {required: true, cross: (c) => (v(c, 'pmin') > v(c, 'pmax') ? 'must be at least the lowest output' : '')}),
    {key: 'qmin', label: 'Lowest reactive output', unit: 'MVAr', type: 'qlim', def: '-inf',
     cross: (c) => (q(c.qmin, -Infinity) > q(c.qmax, Infinity) ? 'must be at most the highest reactive output' : '')},
    {key: 'qmax', label: 'Highest reactive output', unit: 'MVAr', type: 'qlim', def: 'inf',
     cross: (c) => (q(c.qmin, -Infinity) > q(c.qmax, Infinity) ? 'must be at least the lowest reactive output' : '')},
    num('vg', 'Voltage setpoint', 'p.u.', 1, {gt: 0}),
    num('ramp_up', 'Ramp up', 'MW/h', 0, {min: 0, help: '0: unlimited'}),
    num('ramp_down', 'Ramp down', 'MW/h', 0, {min: 0, help: '0: unlimited'}),
    num('min_up_h', 'Minimum up time', 'h', 0, {min: 0}),
    num('min_down_h', 'Minimum down time', 'h', 0, {min: 0}),
    {key: 'cost', label: 'Cost coefficients c0, c1, c2', unit: '$/h, $/MWh, $/MW²h', type: 'cost', def: null},
    num('fixed_cost', 'No-load cost', '$/h', 0),
    num('startup_cost', 'Start-up cost', '$', 0, {min: 0}),
    {key: 'in_service', label: 'In service', type: 'bool', def: true},
  ],
  renewables: [
    {key: 'name', label: 'Name', type: 'text', required: true},
    {key: 'bus', label: 'Bus', type: 'bus', required: true},
    {key: 'technology', label: 'Technology', type: 'select', options: ['solar', 'wind', 'hydro', 'other'], def: 'other'},
    num('rating', 'Rating', 'MW', undefined, {required: true, min: 0}),
    num('power_factor', 'Power factor', '', 1, {gt: 0, max: 1}),
    {key: 'availability', label: 'Availability profile', type: 'series', def: null},
    num('cost', 'Variable cost', '$/MWh', 0),
    num('p', 'Active power setpoint', 'MW', 0),
    num('q', 'Reactive power setpoint', 'MVAr', 0),
    {key: 'in_service', label: 'In service', type: 'bool', def: true},
  ],
  storages: [
    {key: 'name', label: 'Name', type: 'text', required: true},
    {key: 'bus', label: 'Bus', type: 'bus', required: true},
    num('energy_mwh', 'Capacity', 'MWh', undefined, {required: true, min: 0}),
    num('soc_min_mwh', 'Lowest state of charge', 'MWh', 0,
        {min: 0, cross: (c) => (v(c, 'soc_min_mwh') > v(c, 'energy_mwh') ? 'must be at most the capacity' : '')}),
    num('soc_initial_mwh', 'Initial state of charge', 'MWh', 0,
        {cross: (c) => (v(c, 'soc_initial_mwh') < v(c, 'soc_min_mwh') || v(c, 'soc_initial_mwh') > v(c, 'energy_mwh') ? 'must be between the lowest state of charge and the capacity' : '')}),
    num('charge_mw', 'Charging power', 'MW', undefined, {required: true, min: 0}),
    num('discharge_mw', 'Discharging power', 'MW', undefined, {required: true, min: 0}),
    num('eff_charge', 'Charging efficiency', '', 1, {gt: 0, max: 1}),
    num('eff_discharge', 'Discharging efficiency', '', 1, {gt: 0, max: 1}),
    num('cost', 'Wear cost', '$/MWh', 0),
    num('p', 'Setpoint (+ discharging)', 'MW', 0),
    num('q', 'Reactive setpoint', 'MVAr', 0),
    {key: 'in_service', label: 'In service', type: 'bool', def: true},
  ],
};

export const WORLD_FIELDS = [
  {key: 'name', label: 'World name', type: 'text'},
  {key: 'description', label: 'Description', type: 'text'},
  num('base_mva', 'System base', 'MVA', 100, {min: 0.001, max: 1e6}),
];

// What each kind is called, one and many.
export const KIND = {
  buses: 'bus', branches: 'branch', loads: 'load', thermals: 'generator', renewables: 'renewable',
  storages: 'storage',
};

function v(c, key) {
  const f = [...FIELDS.buses, ...FIELDS.branches, ...FIELDS.thermals, ...FIELDS.storages].find((x) => x.key === key);
  const val = c[key];
  return val === undefined || val === null ? (f && f.def !== undefined ? f.def : NaN) : val;
}
function q(val, def) {
  if (val === undefined || val === null) return def;
  if (val === 'inf') return Infinity;
  if (val === '-inf') return -Infinity;
  return val;
}

// The value shown in the panel for field f of component c (the default when left out).
export function fieldValue(c, f) {
  const val = c[f.key];
  if (val === undefined || val === null) return f.def === undefined ? null : f.def;
  return val;
}

// Checks one field of a component: '' or the problem, as the library's reading and validation
// would report it.
export function checkField(c, f, world) {
  const val = c[f.key];
  if (val === undefined || val === null || val === '') {
    return f.required ? 'required' : '';
  }
  if (f.type === 'number') {
    if (typeof val !== 'number' || !Number.isFinite(val)) return 'must be a finite number';
    if (f.min !== undefined && val < f.min) return `must be at least ${f.min}`;
    if (f.max !== undefined && val > f.max) return `must be at most ${f.max}`;
    if (f.gt !== undefined && !(val > f.gt)) return `must be greater than ${f.gt}`;
  }
  if (f.type === 'qlim' && typeof val !== 'number' && val !== 'inf' && val !== '-inf') {
    return 'a number, "inf" or "-inf"';
  }
  if (f.type === 'qlim' && typeof val === 'number' && !Number.isFinite(val)) return 'must be a finite number';
  if (f.type === 'text' && f.key === 'name' && typeof val === 'string' && !val.trim()) return 'required';
  if (f.type === 'bus' && world && !world.buses.some((b) => b.name === val)) return `there is no bus named "${val}"`;
  if (f.type === 'series' && world && !(world.series || []).some((s) => s.name === val)) {
    return `there is no profile named "${val}"`;
  }
  if (f.cross) return f.cross(c);
  return '';
}

// Every problem of a component, {key: message}.
export function checkComponent(section, c, world) {
  const out = {};
  for (const f of FIELDS[section]) {
    const m = checkField(c, f, world);
    if (m) out[f.key] = m;
  }
  if (section === 'buses' && world && c.name) {
    if (world.buses.filter((b) => b.name === c.name).length > 1) out.name = 'another bus has this name';
  }
  return out;
}

// The first problem of the whole world, {section, index, key, message}, or null.
export function firstProblem(world) {
  if (!world.buses.length) return {section: null, index: -1, key: '', message: 'the world has no bus: add one from the palette'};
  for (const s of SECTIONS) {
    const arr = world[s] || [];
    for (let i = 0; i < arr.length; i++) {
      const p = checkComponent(s, arr[i], world);
      const k = Object.keys(p)[0];
      if (k) return {section: s, index: i, key: k, message: `${KIND[s]} "${arr[i].name || i + 1}": ${k}: ${p[k]}`};
    }
  }
  return null;
}

export function emptyWorld(name = 'my-microworld') {
  return {format: 'plurigrid-world/1', name, base_mva: 100, buses: [], branches: [], loads: [],
          thermals: [], renewables: [], storages: [], series: []};
}

// A document read from a file or the server, with every section present (an array).
export function fromDocument(doc) {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('not a JSON object');
  if (doc.format !== 'plurigrid-world/1') {
    throw new Error(`"format" is ${JSON.stringify(doc.format)}, not "plurigrid-world/1"`);
  }
  const w = JSON.parse(JSON.stringify(doc));
  for (const s of [...SECTIONS, 'series']) {
    if (w[s] === undefined) w[s] = [];
    if (!Array.isArray(w[s])) throw new Error(`"${s}" is not an array`);
  }
  return w;
}

// The plurigrid-world/1 document to save: sections left out when empty (but buses), keys that hold
// their default left out, bus positions rounded to 0.1.
export function toDocument(w) {
  const doc = {format: 'plurigrid-world/1'};
  if (w.name) doc.name = w.name;
  if (w.description) doc.description = w.description;
  doc.base_mva = w.base_mva === undefined ? 100 : w.base_mva; // always written, as the library does
  for (const s of [...SECTIONS, 'series']) {
    const arr = w[s] || [];
    if (!arr.length && s !== 'buses') continue;
    doc[s] = arr.map((c) => {
      const o = {};
      for (const [k, val] of Object.entries(c)) {
        if (val === undefined || val === '') continue;
        const f = (FIELDS[s] || []).find((x) => x.key === k);
        if (f && f.def !== undefined && val === f.def) continue;
        if (f && f.def === null && val === null) continue;
        o[k] = s === 'buses' && (k === 'x' || k === 'y') && typeof val === 'number' ? Math.round(val * 10) / 10 : val;
      }
      return o;
    });
  }
  return doc;
}

// A name not yet used in section s: prefix1, prefix2, ...
export function freshName(w, s, prefix) {
  const used = new Set((w[s] || []).map((c) => c.name));
  for (let i = (w[s] || []).length + 1; ; i++) if (!used.has(prefix + i)) return prefix + i;
}

// New components with values that solve (a small 20 kV microgrid's), to edit afterwards.
export function newComponent(w, kind, args) {
  switch (kind) {
    case 'bus': {
      const b = {name: freshName(w, 'buses', 'bus'), base_kv: 20, x: args.x, y: args.y};
      if (!w.buses.some((o) => o.type === 'ref')) b.type = 'ref';
      return ['buses', b];
    }
    case 'line':
      return ['branches', {name: freshName(w, 'branches', 'line'), from: args.from, to: args.to, r: 0.01, x: 0.05, rate_a: 100}];
    case 'transformer':
      return ['branches', {name: freshName(w, 'branches', 'trafo'), kind: 'transformer', from: args.from, to: args.to, r: 0.01, x: 0.05}];
    case 'load':
      return ['loads', {name: freshName(w, 'loads', 'load'), bus: args.bus, p: 5, q: 1}];
    case 'generator':
      return ['thermals', {name: freshName(w, 'thermals', 'gen'), bus: args.bus, pmax: 50, cost: {model: 'polynomial', coef: [0, 30]}}];
    case 'renewable':
      return ['renewables', {name: freshName(w, 'renewables', 'pv'), bus: args.bus, technology: 'solar', rating: 10}];
    case 'storage':
      return ['storages', {name: freshName(w, 'storages', 'battery'), bus: args.bus, energy_mwh: 10, charge_mw: 5, discharge_mw: 5}];
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

// Renames bus `from` to `to` in every reference.
export function renameBus(w, from, to) {
  for (const br of w.branches) {
    if (br.from === from) br.from = to;
    if (br.to === from) br.to = to;
  }
  for (const s of ['loads', 'thermals', 'renewables', 'storages']) for (const c of w[s]) if (c.bus === from) c.bus = to;
}

// Renames a profile (series) in every reference.
export function renameSeries(w, from, to) {
  for (const l of w.loads) {
    if (l.p_series === from) l.p_series = to;
    if (l.q_series === from) l.q_series = to;
  }
  for (const r of w.renewables) if (r.availability === from) r.availability = to;
}

// Deletes component i of section s; a bus takes its branches and units with it.
export function remove(w, s, i) {
  const c = w[s][i];
  w[s].splice(i, 1);
  if (s === 'buses') {
    w.branches = w.branches.filter((b) => b.from !== c.name && b.to !== c.name);
    for (const u of ['loads', 'thermals', 'renewables', 'storages']) w[u] = w[u].filter((x) => x.bus !== c.name);
  }
}

// The units attached to a bus, [{section, index, c}].
export function unitsAt(w, busName) {
  const out = [];
  for (const s of ['loads', 'thermals', 'renewables', 'storages']) {
    w[s].forEach((c, i) => {
      if (c.bus === busName) out.push({section: s, index: i, c});
    });
  }
  return out;
}
