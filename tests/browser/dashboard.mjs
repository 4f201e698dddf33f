// Starts a community run (examples/lattice: four homes on CityLearn data) from the dashboard's
// form with 0.6 s per interval (24 intervals: about 15 s), and watches the clearing price shown
// (#clearing-price) change as the intervals clear; checks the members; reloads the page during the
// run (it follows the run again: Cancel works, Start waits), checks that a second run is refused
// (409 naming the first) while it goes on, and cancels it.

import fs from 'node:fs';
import path from 'node:path';
import {apiGet, check, env, launch, noPageErrors, run, sleep, startServer} from './lib.mjs';

const dataset = path.join(env.data, 'citylearn-2022-fontana');

await run('dashboard', async (t) => {
  check(fs.existsSync(dataset), `the community data is missing: ${dataset}`);
  t.server = await startServer(['--scenarios', path.join(env.source, 'examples'), '--data', dataset]);
  const {page, problems} = await launch();
  t.page = page;
  t.problems = problems;
  await page.goto(`${t.server.url}/#/dashboard`);
  const opt = page.locator('#scenario option', {hasText: 'lattice'});
  await opt.first().waitFor({state: 'attached'});
  const value = await opt.first().getAttribute('value');
  await page.locator('#scenario').selectOption(value);
  await page.locator('#interval-s').fill('0.6');
  await t.shot(page, 'form');
  const started = page.waitForResponse((r) => r.url().endsWith('/api/jobs/community'));
  await page.locator('#community-start').click();
  const sr = await started;
  check(sr.status() === 202, `starting the run answered ${sr.status()}: ${await sr.text()}`);
  const job = await sr.json();

  // The price shown changes as intervals clear.
  const seen = [];
  const t0 = Date.now();
  while (Date.now() - t0 < 90000) {
    const txt = (await page.locator('#clearing-price').textContent()).trim();
    if (!seen.length || seen[seen.length - 1] !== txt) seen.push(txt);
    if (seen.length >= 4) break;
    await sleep(50);
  }
  console.log(`dashboard: clearing prices shown: ${seen.join(' -> ')}`);
  check(seen.length >= 3, `the clearing price shown changed ${seen.length - 1} time(s) in 90 s, not at least twice: ${seen.join(' -> ')}`);
  await t.shot(page, 'running');
  const members = await page.locator('#members tbody tr').count();
  check(members === 4, `the dashboard lists ${members} members, not the scenario's 4`);

  // A reload during the run: the page follows the run's job again (Cancel enabled, Start not),
  // and Cancel stops it.
  const before = await apiGet(t.server.url, `/api/jobs/${job.id}`);
  check(before.status === 'running', `the community job is ${before.status} before the reload, not running`);
  await page.reload();
  await page.locator('#job-status', {hasText: job.id}).waitFor({timeout: 10000});
  await page.waitForFunction(() => !document.getElementById('community-cancel').disabled, null, {timeout: 10000});
  check(await page.locator('#community-start').isDisabled(), 'after a reload during the run, Start is enabled while the run goes on');
  await t.shot(page, 'reloaded');
  // A second run is refused while this one goes on, with a message naming it.
  const r2 = await fetch(`${t.server.url}/api/jobs/community`, {method: 'POST', headers: {'Content-Type': 'application/json'},
                                                              body: JSON.stringify({scenario: value, interval_s: 0.3})});
  const second = {status: r2.status, body: await r2.json()};
  const now = await apiGet(t.server.url, `/api/jobs/${job.id}`);
  check(second.status === 409 && second.body.error.message.includes(job.id),
        `a second community run answered ${second.status} ${JSON.stringify(second.body)}, not 409 naming ${job.id} (which is ${now.status})`);
  if (await page.locator('#community-cancel').isEnabled()) {
    await page.locator('#community-cancel').click();
  }
  for (let i = 0; i < 100; i++) {
    const j = await apiGet(t.server.url, `/api/jobs/${job.id}`);
    if (j.status === 'cancelled' || j.status === 'done') break;
    await sleep(100);
  }
  const j = await apiGet(t.server.url, `/api/jobs/${job.id}`);
  check(j.status === 'cancelled' || j.status === 'done', `the community job is ${j.status} after Cancel`);
  await sleep(1500);
  await t.shot(page, 'after');
  noPageErrors(t);
});
