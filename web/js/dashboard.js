// The dashboard: the live state of a community run (GET /api/live, docs/http.md "Live state and
// nodes"), kept current by the server-sent events of /api/events ("live" and "job" events; with a
// bearer token, which EventSource cannot send, by polling /api/live every second instead):
// members with their status and latest telemetry, the current interval's bids and clearing price,
// demand-response events, and the history of prices and volumes. A form starts a community run
// from the server's scenarios (POST /api/jobs/community) and cancels it (DELETE /api/jobs/{id}).

import * as api from './api.js';
import {chart} from './charts.js';

const pick = (o, ...keys) => {
  if (!o || typeof o !== 'object') return undefined;
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) return o[k];
  return undefined;
};
const num = (x, d = 3) => (typeof x === 'number' && Number.isFinite(x) ? String(Math.round(x * 10 ** d) / 10 ** d) : '–');
const asList = (x) => (Array.isArray(x) ? x : x && typeof x === 'object' ? Object.entries(x).map(([name, v]) => ({name, ...(typeof v === 'object' ? v : {value: v})})) : []);

export class Dashboard {
  constructor() {
    this.es = null;
    this.poll = null;
    this.jobId = null;
    this.pending = false;
    this.again = false;
    document.getElementById('community-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.start();
    });
    document.getElementById('community-cancel').addEventListener('click', () => this.cancel());
    this.loadScenarios();
  }

  show() {
    this.refresh();
    this.connect();
  }

  hide() {
    if (this.es) this.es.close();
    this.es = null;
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
  }

  connect() {
    if (this.es || this.poll) return;
    if (api.token() || typeof EventSource === 'undefined') {
      this.poll = setInterval(() => this.refresh(), 1000);
      return;
    }
    const es = new EventSource('/api/events');
    this.es = es;
    es.addEventListener('live', (ev) => {
      let d = null;
      try {
        d = JSON.parse(ev.data);
      } catch {
        d = null;
      }
      // A whole state is drawn as it is; anything else (a change) is fetched whole.
      if (d && (d.members || d.history)) this.draw(d);
      else this.refresh();
    });
    es.addEventListener('job', (ev) => {
      try {
        const j = JSON.parse(ev.data);
        if (j && j.id === this.jobId) this.jobStatus(j);
      } catch {
        /* not JSON: ignored */
      }
      this.refresh();
    });
    es.onerror = () => {
      // The server went away, or wants a token: poll instead (the poll shows the error).
      if (es.readyState === EventSource.CLOSED) {
        this.es = null;
        if (!this.poll) this.poll = setInterval(() => this.refresh(), 1000);
      }
    };
  }

  // GET /api/live, one request at a time (a request asked for meanwhile runs after it).
  async refresh() {
    if (this.pending) {
      this.again = true;
      return;
    }
    this.pending = true;
    try {
      const d = await api.get('/api/live');
      this.draw(d);
      if (this.jobId) this.jobStatus(await api.get(`/api/jobs/${encodeURIComponent(this.jobId)}`));
    } catch (e) {
      if (e.status === 404) this.draw(null);
      else api.showError(e, 'live state');
    } finally {
      this.pending = false;
      if (this.again) {
        this.again = false;
        setTimeout(() => this.refresh(), 100);
      }
    }
  }

  async loadScenarios() {
    const sel = document.getElementById('scenario');
    try {
      const r = await api.get('/api/scenarios');
      sel.replaceChildren();
      for (const s of r.scenarios || []) {
        const o = document.createElement('option');
        o.value = s.name;
        o.textContent = `${s.name} (${s.nodes} members, ${s.intervals} intervals)`;
        sel.appendChild(o);
      }
      if (!sel.options.length) {
        const o = document.createElement('option');
        o.value = '';
        o.textContent = '(the server has no scenarios: start it with --scenarios DIR)';
        sel.appendChild(o);
      }
    } catch (e) {
      api.showError(e, 'listing the scenarios');
    }
  }

  async start() {
    const scenario = document.getElementById('scenario').value;
    if (!scenario) {
      api.showError(new Error('choose a scenario first'), 'run');
      return;
    }
    const days = Number(document.getElementById('days').value) || 1;
    const intervalS = Number(document.getElementById('interval-s').value);
    try {
      const body = {scenario, days, interval_s: Number.isFinite(intervalS) ? intervalS : 0};
      const j = await api.post('/api/jobs/community', body);
      this.jobId = j.id;
      api.clearError();
      this.jobStatus(j);
      this.connect();
      this.refresh();
    } catch (e) {
      api.showError(e, 'starting the run');
    }
  }

  async cancel() {
    if (!this.jobId) return;
    try {
      this.jobStatus(await api.del(`/api/jobs/${encodeURIComponent(this.jobId)}`));
    } catch (e) {
      api.showError(e, 'cancelling');
    }
  }

  jobStatus(j) {
    const running = j.status === 'queued' || j.status === 'running';
    const pr = j.progress && j.progress.total ? ` (${j.progress.done} of ${j.progress.total} ${j.progress.units || ''})` : '';
    const err = j.error ? `: ${typeof j.error === 'string' ? j.error : j.error.message}` : '';
    document.getElementById('job-status').textContent = `Run ${j.id}: ${j.status}${pr}${err}`;
    document.getElementById('community-cancel').disabled = !running;
    document.getElementById('community-start').disabled = running;
  }

  draw(d) {
    const priceEl = document.getElementById('clearing-price');
    if (!d) {
      priceEl.textContent = '–';
      document.getElementById('live-source').textContent = 'No community is running: start one above.';
      return;
    }
    const cur = pick(d, 'current', 'interval_state', 'now') || {};
    const history = this.history(d);
    const intervals = pick(d, 'intervals');
    const idx = pick(cur, 'interval', 'index') ?? pick(d, 'interval');
    let price = pick(cur, 'price', 'clearing_price');
    if (price === undefined && cur.clearing) price = pick(cur.clearing, 'price');
    if (price === undefined) price = pick(d, 'clearing_price', 'price');
    if (price === undefined && history.price.length) {
      const last = history.price.filter((x) => x !== null && x !== undefined);
      price = last.length ? last[last.length - 1] : undefined;
    }
    priceEl.textContent = typeof price === 'number' && Number.isFinite(price) ? price.toFixed(4) : 'no trade';
    document.getElementById('price-unit').textContent = typeof price === 'number' ? '$/kWh' : '';
    const status = pick(d, 'status', 'state') || (pick(d, 'running') ? 'running' : pick(d, 'done') ? 'done' : '');
    document.getElementById('live-interval').textContent = idx !== undefined && typeof idx === 'number'
        ? `Interval ${idx + 1}${intervals ? ` of ${intervals}` : ''}${status ? ` · ${status}` : ''}` : String(status || '');
    const src = [pick(d, 'community', 'name'), pick(d, 'source')].filter(Boolean).join(' · ');
    document.getElementById('live-source').textContent = src;

    // Members.
    const tb = document.querySelector('#members tbody');
    tb.replaceChildren();
    for (const m of asList(pick(d, 'members'))) {
      const name = typeof m === 'string' ? m : pick(m, 'name', 'node', 'id');
      const r = tb.insertRow();
      r.dataset.member = name;
      r.insertCell().textContent = name;
      const up = typeof m === 'object' ? pick(m, 'status', 'up', 'state') : undefined;
      r.insertCell().textContent = up === true ? 'up' : up === false ? 'down' : up || '–';
      const t = typeof m === 'object' ? pick(m, 'telemetry', 'last', 'latest') || m : {};
      const parts = [];
      const lab = {load_kwh: 'load', pv_kwh: 'PV', soc_kwh: 'battery', import_kwh: 'import', export_kwh: 'export'};
      for (const [k, l] of Object.entries(lab)) {
        if (typeof t[k] === 'number' && Number.isFinite(t[k])) parts.push(`${l} ${num(t[k])} kWh`);
      }
      r.insertCell().textContent = parts.join(', ') || '–';
    }

    // Bids of the current interval.
    const bb = document.querySelector('#bids tbody');
    bb.replaceChildren();
    const bids = asList(pick(cur, 'bids') ?? pick(d, 'bids'));
    for (const b of bids) {
      const buy = pick(b, 'buy_kwh');
      const sell = pick(b, 'sell_kwh');
      const r = bb.insertRow();
      r.insertCell().textContent = pick(b, 'node', 'member', 'name') || '';
      r.insertCell().textContent = buy > 0 && sell > 0 ? 'buy and sell' : buy > 0 ? 'buy' : sell > 0 ? 'sell' : 'none';
      r.insertCell().textContent = buy > 0 && sell > 0 ? `${num(buy)} / ${num(sell)} kWh` : `${num(buy > 0 ? buy : sell || 0)} kWh`;
      const p = pick(b, 'price', 'limit');
      r.insertCell().textContent = typeof p === 'number' ? `${num(p, 4)} $/kWh` : 'any';
    }
    if (!bids.length) bb.insertRow().insertCell().textContent = 'none yet';

    // Demand response.
    const dr = document.getElementById('dr-events');
    dr.replaceChildren();
    const evs = asList(pick(d, 'dr', 'dr_events', 'events_dr'));
    for (const e of evs) {
      const li = document.createElement('li');
      li.textContent = `${num(pick(e, 'dr_kw', 'kw'), 2)} kW asked from hour ${num(pick(e, 'dr_start_h', 'start_h'), 1)} to ${num(pick(e, 'dr_end_h', 'end_h'), 1)}`;
      dr.appendChild(li);
    }
    if (!evs.length) {
      const li = document.createElement('li');
      li.className = 'muted';
      li.textContent = 'none';
      dr.appendChild(li);
    }

    chart(document.getElementById('chart-live-price'), {x: history.x, xLabel: 'interval', yLabel: '$/kWh',
      series: [{name: 'clearing price', values: history.price.map((x) => (x === null ? NaN : x)), kind: 'step'}]});
    chart(document.getElementById('chart-live-volume'), {x: history.x, xLabel: 'interval', yLabel: 'kWh',
      series: [{name: 'volume', values: history.volume, kind: 'area'}]});
  }

  // {x, price, volume} from the state's history, whichever shape it has: arrays by quantity
  // ({"price": [...], "volume_kwh": [...]}) or a list of intervals.
  history(d) {
    const h = pick(d, 'history') || [];
    let price = [];
    let volume = [];
    let x = [];
    if (Array.isArray(h)) {
      for (const [i, r] of h.entries()) {
        x.push(pick(r, 'interval') ?? i);
        const p = pick(r, 'price', 'clearing_price');
        price.push(typeof p === 'number' ? p : null);
        volume.push(pick(r, 'volume_kwh', 'volume') || 0);
      }
    } else {
      price = (pick(h, 'price', 'prices', 'clearing_price') || []).map((p) => (typeof p === 'number' ? p : null));
      volume = (pick(h, 'volume_kwh', 'volume', 'volumes') || []).map((v) => v || 0);
      x = pick(h, 'interval', 'intervals') || price.map((_, i) => i);
    }
    return {x, price, volume};
  }
}
