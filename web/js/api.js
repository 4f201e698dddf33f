// The JSON API of `plurigrid serve` (docs/http.md) as seen from the browser: one fetch wrapper
// that sends and reads JSON, turns an error reply into an ApiError carrying the server's message
// and where it points (line, column, JSON path), asks for the bearer token when the server answers
// 401 (kept in sessionStorage for this tab only), and waits for jobs.

const TOKEN_KEY = 'plurigrid-token';

export class ApiError extends Error {
  constructor(status, body, fallback) {
    const e = (body && body.error) || {};
    super(e.message || fallback || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || '';
    this.path = e.path || '';
    this.line = e.line;
    this.column = e.column;
  }
  // "line 3, column 7, $.buses[2].vm: message"
  describe() {
    const where = [];
    if (this.line !== undefined && this.line !== null) {
      where.push(`line ${this.line}` + (this.column ? `, column ${this.column}` : ''));
    }
    if (this.path) where.push(this.path);
    return (where.length ? where.join(', ') + ': ' : '') + this.message;
  }
}

export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

function askToken() {
  const t = window.prompt('This server needs an access token (the contents of its --token-file):', '');
  if (t === null || t.trim() === '') return false;
  try {
    sessionStorage.setItem(TOKEN_KEY, t.trim());
  } catch {
    /* private mode: kept for this request only */
  }
  return true;
}

// request('GET', '/api/worlds') -> parsed JSON. body: an object (sent as JSON) or a string
// (sent as text, e.g. a MATPOWER case). Throws ApiError.
export async function request(method, path, body, retried = false) {
  const headers = {Accept: 'application/json'};
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  let payload;
  if (body !== undefined && body !== null) {
    if (typeof body === 'string') {
      payload = body;
      headers['Content-Type'] = 'text/plain';
    } else {
      payload = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }
  }
  let res;
  try {
    res = await fetch(path, {method, headers, body: payload});
  } catch (e) {
    throw new ApiError(0, null, `cannot reach the server (${e.message})`);
  }
  let text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.status === 401 && !retried) {
    // Another request may have asked for the token meanwhile: then it is used, not asked again.
    if ((token() && token() !== t) || askToken()) return request(method, path, body, true);
  }
  if (!res.ok) {
    throw new ApiError(res.status, data, `${method} ${path}: HTTP ${res.status} ${res.statusText}`);
  }
  if (data === null && text) throw new ApiError(res.status, null, `${path}: the reply is not JSON`);
  return data;
}

export const get = (p) => request('GET', p);
export const post = (p, b) => request('POST', p, b);
export const put = (p, b) => request('PUT', p, b);
export const del = (p) => request('DELETE', p);

// Submits a job (POST path body) and waits for its end; onStatus(job) on each update.
// Returns {job, result}; throws ApiError when the job failed or was cancelled.
export async function runJob(path, body, onStatus, signal) {
  const sub = await post(path, body);
  const id = sub.id;
  if (onStatus) onStatus(sub);
  for (;;) {
    if (signal && signal.aborted) {
      await del(`/api/jobs/${encodeURIComponent(id)}`).catch(() => {});
      throw new ApiError(0, null, 'cancelled');
    }
    const t0 = Date.now();
    const job = await get(`/api/jobs/${encodeURIComponent(id)}?wait=10`);
    // A server that answers at once (no long poll) is asked again a moment later.
    if (job.status !== 'done' && Date.now() - t0 < 100) await new Promise((r) => setTimeout(r, 250));
    if (onStatus) onStatus(job);
    if (job.status === 'done') {
      const result = await get(`/api/jobs/${encodeURIComponent(id)}/result`);
      return {job, result};
    }
    if (job.status === 'failed' || job.status === 'cancelled') {
      // The result of a failed job is its error (with its path and line).
      try {
        await get(`/api/jobs/${encodeURIComponent(id)}/result`);
      } catch (e) {
        if (e instanceof ApiError && e.status !== 409) throw e;
      }
      const msg = typeof job.error === 'string' ? job.error : (job.error && job.error.message) || job.status;
      throw new ApiError(0, {error: typeof job.error === 'object' && job.error ? job.error : {message: msg}}, msg);
    }
  }
}

// Shows an error in the page's alert area (role=alert), with the server's path and line.
export function showError(err, context) {
  const box = document.getElementById('error');
  if (!box) return;
  const msg = err instanceof ApiError ? err.describe() : String((err && err.message) || err);
  box.querySelector('.msg').textContent = (context ? context + ': ' : '') + msg;
  box.hidden = false;
}

export function clearError() {
  const box = document.getElementById('error');
  if (box) box.hidden = true;
}
