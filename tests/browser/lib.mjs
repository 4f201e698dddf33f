// What every browser test shares: starting `plurigrid serve` on a free port with a fresh worlds
// folder, launching Debian's chromium through playwright-core, screenshots as test artifacts,
// and stopping the server and the browser whatever happens (a failure, an exception, a signal,
// the watchdog).
//
// Settings come from the environment (tests/CMakeLists.txt sets them):
//   PG_CLI        the plurigrid command
//   PG_SOURCE_DIR the source tree (examples/)
//   PG_DATA_DIR   the reference data (../shared/data)
//   PG_ARTIFACTS  where screenshots go (under the build folder)
//   PG_CHROMIUM   the browser (default /usr/bin/chromium)

import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const env = {
  cli: process.env.PG_CLI || '',
  source: process.env.PG_SOURCE_DIR || path.resolve(here, '../..'),
  data: process.env.PG_DATA_DIR || path.resolve(here, '../../../shared/data'),
  artifacts: process.env.PG_ARTIFACTS || '',
  chromium: process.env.PG_CHROMIUM || '/usr/bin/chromium',
};

export class TestFailure extends Error {}

export function check(cond, msg) {
  if (!cond) throw new TestFailure(msg);
}

const cleanups = [];
let done = false;

// Kills what is left at once (process exit handlers cannot wait).
function killAllNow() {
  for (const c of cleanups.splice(0)) {
    try {
      c.now();
    } catch {
      /* already gone */
    }
  }
}
process.on('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`browser test: ${sig}: stopping the server and the browser`);
    killAllNow();
    process.exit(1);
  });
}

async function runCleanups() {
  while (cleanups.length) {
    const c = cleanups.pop();
    try {
      await c.gently();
    } catch (e) {
      console.error(`browser test: cleanup: ${e.message}`);
    }
  }
}

// Starts `plurigrid serve --listen 127.0.0.1:0 --worlds TMP ...extra` and waits for its
// "listening on http://..." line. Returns {url, dir, log(), proc}.
export async function startServer(extra = []) {
  check(env.cli && fs.existsSync(env.cli), `PG_CLI is not the plurigrid command: '${env.cli}' (run the tests through ctest)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-browser-'));
  const worlds = path.join(dir, 'worlds');
  fs.mkdirSync(worlds);
  const args = ['serve', '--listen', '127.0.0.1:0', '--worlds', worlds, ...extra];
  const proc = spawn(env.cli, args, {stdio: ['ignore', 'pipe', 'pipe']});
  let log = '';
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  let exited = null;
  proc.on('exit', (code, sig) => { exited = {code, sig}; });
  cleanups.push({
    now: () => {
      if (!exited) proc.kill('SIGKILL');
      fs.rmSync(dir, {recursive: true, force: true});
    },
    gently: async () => {
      if (!exited) {
        proc.kill('SIGTERM');
        const t0 = Date.now();
        while (!exited && Date.now() - t0 < 5000) await sleep(50);
        if (!exited) {
          console.error('browser test: the server did not stop within 5 s of SIGTERM: killed');
          proc.kill('SIGKILL');
        }
      }
      fs.rmSync(dir, {recursive: true, force: true});
    },
  });
  const t0 = Date.now();
  for (;;) {
    const m = /listening on (http:\/\/[^\s]+)/.exec(log);
    if (m) return {url: m[1], dir, worlds, proc, log: () => log};
    if (exited) throw new TestFailure(`plurigrid serve exited (${JSON.stringify(exited)}) before listening:\n${log}`);
    if (Date.now() - t0 > 30000) throw new TestFailure(`plurigrid serve did not say it listens within 30 s:\n${log}`);
    await sleep(20);
  }
}

export async function launch(viewport = {width: 1280, height: 800}) {
  let pw;
  try {
    pw = await import('playwright-core');
  } catch (e) {
    throw new TestFailure(`playwright-core is not installed in tests/browser/node_modules (${e.message}): run 'make test', which installs it (scripts/deps.sh runs npm ci there)`);
  }
  check(fs.existsSync(env.chromium), `no browser at ${env.chromium}: run 'make test' (scripts/deps.sh installs Debian's chromium)`);
  const browser = await pw.chromium.launch({executablePath: env.chromium, headless: true, args: ['--no-sandbox']});
  cleanups.push({
    now: () => {
      const p = browser.process && browser.process();
      if (p) p.kill('SIGKILL');
    },
    gently: () => browser.close(),
  });
  const context = await browser.newContext({viewport, acceptDownloads: true, hasTouch: viewport.width < 500,
                                            isMobile: viewport.width < 500, deviceScaleFactor: 1});
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.setDefaultTimeout(30000);
  return {browser, context, page, problems};
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Runs a test: fn(t) with t.shot(page, step) saving screenshots; exits 0 on success, 1 with the
// message on failure; the server and browser are stopped either way. A watchdog fails the test
// after limit_s.
export async function run(name, fn, limitS = 240) {
  const dir = env.artifacts ? path.join(env.artifacts, name) : '';
  if (dir) fs.mkdirSync(dir, {recursive: true});
  let n = 0;
  const t = {
    shot: async (page, step, opts = {}) => {
      if (!dir) return;
      n += 1;
      const file = path.join(dir, `${String(n).padStart(2, '0')}-${step}.png`);
      await page.screenshot({path: file, ...opts});
    },
    dir,
  };
  const watchdog = setTimeout(() => {
    console.error(`${name}: FAIL: still running after ${limitS} s`);
    killAllNow();
    process.exit(1);
  }, limitS * 1000);
  let rc = 0;
  try {
    await fn(t);
    console.log(`${name}: ok`);
  } catch (e) {
    rc = 1;
    console.error(`${name}: FAIL: ${e instanceof TestFailure ? e.message : e.stack || e}`);
    if (t.page) await t.shot(t.page, 'failure').catch(() => {});
    if (t.server) console.error(`--- plurigrid serve's output:\n${t.server.log()}`);
    if (t.problems && t.problems.length) console.error(`--- the page's errors:\n${t.problems.join('\n')}`);
  } finally {
    clearTimeout(watchdog);
    await runCleanups();
    done = true;
  }
  process.exit(rc);
}

// The page must have raised no error (JS exceptions, CSP refusals, failed requests logged).
export function noPageErrors(t, allow = []) {
  const left = (t.problems || []).filter((p) => !allow.some((re) => re.test(p)));
  check(!left.length, `the page logged errors:\n${left.join('\n')}`);
}

// Runs the plurigrid command; returns {status, stdout, stderr}.
export function cli(args) {
  const r = spawnSync(env.cli, args, {encoding: 'utf8', timeout: 120000});
  return {status: r.status, stdout: r.stdout, stderr: r.stderr};
}

// HTTP JSON from the test itself (the API the page uses).
export async function apiGet(base, p) {
  const r = await fetch(base + p);
  const text = await r.text();
  check(r.ok, `GET ${p}: ${r.status} ${text}`);
  return JSON.parse(text);
}

// Waits for the latest pf job to finish and returns its result document.
export async function latestJobResult(base, kind) {
  const {jobs} = await apiGet(base, '/api/jobs');
  const mine = (jobs || []).filter((j) => j.kind === kind);
  check(mine.length, `no ${kind} job on the server`);
  const j = mine[mine.length - 1];
  check(j.status === 'done', `the ${kind} job ${j.id} is ${j.status}`);
  return apiGet(base, `/api/jobs/${j.id}/result`);
}

export {done};
