// The dashboard: the live state of a community run (GET /api/live, docs/http.md "Live state and
// nodes"), kept current by the server-sent events of /api/events ("live" and "job" events; with a
// bearer token, which EventSource cannot send, by polling /api/live every second instead):
// members with their status and latest telemetry, the current interval's bids and clearing price,
// demand-response events, and the history of prices and volumes. A form starts a community run
// from the server's scenarios (POST /api/jobs/community) and cancels it (DELETE /api/jobs/{id}).

import * as api from './api.js';
import {chart} from './charts.js';

const num = (x, d = 3) => (typeof x === 'number' && Number.isFinite(x) ? String(Math.round(x * 10 ** d) / 10 ** d) : '–');

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
    // A "live" event says that the state changed: the whole state is fetched again (one request
    // at a time, so a fast run costs a request per response time, not one per event).
    es.addEventListener('live', () => this.refresh());
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
      // A page opened (or reloaded) during a run of this server follows that run's job, so that
      // Cancel works and Start waits for its end.
      const m = d && d.active && typeof d.source === 'string' && /^job ([0-9a-f]+)$/.exec(d.source);
      if (m && m[1] !== this.jobId) this.jobId = m[1];
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

  // Draws the state of GET /api/live (docs/http.md "Live state and nodes").
  draw(d) {
    const priceEl = document.getElementById('clearing-price');
    if (!d || !d.members) {
      priceEl.textContent = '–';
      document.getElementById('price-unit').textContent = '';
      document.getElementById('live-interval').textContent = '';
      document.getElementById('live-source').textContent = 'No community run yet: start one above.';
      return;
    }
    const cl = d.clearing;
    priceEl.textContent = !cl ? '–' : typeof cl.price === 'number' ? cl.price.toFixed(4) : 'no trade';
    document.getElementById('price-unit').textContent = cl && typeof cl.price === 'number' ? `$/kWh (interval ${cl.interval + 1})` : '';
    const cur = d.interval;
    const state = d.done ? 'done' : d.active ? 'running' : 'stopped';
    document.getElementById('live-interval').textContent = cur
      ? `Interval ${cur.index + 1} of ${d.intervals || '?'}, ${cur.state} · ${state}` : state;
    const op = d.operator ? ` · operator ${d.operator.name} (term ${d.operator.term})` : '';
    const conn = d.connection ? ` · ${d.connection.up ? 'connected to' : 'disconnected from'} ${d.connection.server || 'the bus'}` : '';
    document.getElementById('live-source').textContent = `${d.community || ''}${d.source ? ` (${d.source})` : ''}${op}${conn}`;

    // Members.
    const tb = document.querySelector('#members tbody');
    tb.replaceChildren();
    for (const m of d.members) {
      const r = tb.insertRow();
      r.dataset.member = m.name;
      r.insertCell().textContent = m.name;
      r.insertCell().textContent = (m.up ? 'up' : 'down') + (m.operator ? ', operator' : '');
      const t = m.telemetry;
      const parts = [];
      if (t) {
        const lab = {load_kwh: 'load', pv_kwh: 'PV', soc_kwh: 'battery', import_kwh: 'import', export_kwh: 'export'};
        for (const [k, l] of Object.entries(lab)) if (typeof t[k] === 'number') parts.push(`${l} ${num(t[k])} kWh`);
      }
      const st = m.settlement;
      if (st) parts.push(`bought ${num(st.bought_kwh)} kWh`, `sold ${num(st.sold_kwh)} kWh`, st.amount < 0 ? `received $${num(-st.amount, 4)}` : `paid $${num(st.amount, 4)}`);
      r.insertCell().textContent = parts.length ? parts.join(', ') : '–';
    }

    // Bids of the current interval.
    const bb = document.querySelector('#bids tbody');
    bb.replaceChildren();
    const bids = (cur && cur.bids) || [];
    for (const b of bids) {
      const buy = b.buy_kwh || 0;
      const sell = b.sell_kwh || 0;
      const r = bb.insertRow();
      r.insertCell().textContent = b.node;
      r.insertCell().textContent = buy > 0 && sell > 0 ? 'buy and sell' : buy > 0 ? 'buy' : sell > 0 ? 'sell' : 'none';
      r.insertCell().textContent = buy > 0 && sell > 0 ? `${num(buy)} / ${num(sell)} kWh` : `${num(buy || sell)} kWh`;
      r.insertCell().textContent = typeof b.price === 'number' ? `${num(b.price, 4)} $/kWh` : 'any';
    }
    if (!bids.length) {
      const c = bb.insertRow().insertCell();
      c.colSpan = 4;
      c.className = 'muted';
      c.textContent = 'none yet';
    }

    // Demand response.
    const dr = document.getElementById('dr-events');
    dr.replaceChildren();
    for (const e of d.dr_events || []) {
      const li = document.createElement('li');
      li.textContent = `${e.id ? e.id + ': ' : ''}${num(e.kw, 2)} kW asked${e.node ? ` of ${e.node}` : ''} from hour ${num(e.start_h, 1)} to ${num(e.end_h, 1)}`;
      dr.appendChild(li);
    }
    if (!dr.children.length) {
      const li = document.createElement('li');
      li.className = 'muted';
      li.textContent = 'none';
      dr.appendChild(li);
    }

    const h = this.history(d);
    chart(document.getElementById('chart-live-price'), {x: h.x, xLabel: 'interval', yLabel: '$/kWh', empty: 'no interval cleared yet',
      series: [{name: 'clearing price', values: h.price, kind: 'step'}]});
    chart(document.getElementById('chart-live-volume'), {x: h.x, xLabel: 'interval', yLabel: 'kWh', empty: 'no interval cleared yet',
      series: [{name: 'volume traded', values: h.volume, kind: 'step'}]});
  }

  // {x, price, volume} of the state's history (arrays by quantity, one entry per interval; a
  // price or volume is null when the interval did not clear).
  history(d) {
    const h = d.history || {};
    const price = (h.price || []).map((p) => (typeof p === 'number' ? p : NaN));
    const volume = (h.volume_kwh || []).map((v) => (typeof v === 'number' ? v : NaN));
    const x = (h.interval || price.map((_, i) => i)).map((i) => i + 1);
    return {x, price, volume};
  }
}
