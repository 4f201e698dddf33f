// Imports MATPOWER's case14 through the designer ("Import MATPOWER": the server reads it and lays
// it out), runs the power flow, and checks the voltage magnitude shown at every bus against
// MATPOWER's own solution (../shared/data/matpower/reference/case14/pf_bus.csv), to the 4
// decimals shown. With PG_SCREENSHOT_README=1 it also writes docs/images/designer.png (the
// README's picture).

import fs from 'node:fs';
import path from 'node:path';
import {check, env, launch, noPageErrors, run, startServer} from './lib.mjs';

const casePath = path.join(env.data, 'matpower/cases/case14.m');
const refPath = path.join(env.data, 'matpower/reference/case14/pf_bus.csv');

await run('import-case14', async (t) => {
  check(fs.existsSync(casePath) && fs.existsSync(refPath), `the MATPOWER reference data is missing: ${casePath}, ${refPath}`);
  // bus_i,Vm,Va_deg
  const lines = fs.readFileSync(refPath, 'utf8').trim().split('\n');
  check(lines[0].startsWith('bus_i,Vm'), `${refPath}: unexpected header ${lines[0]}`);
  const ref = new Map(lines.slice(1).map((l) => l.split(',')).map(([n, vm]) => [Number(n), Number(vm)]));
  check(ref.size === 14, `${refPath}: ${ref.size} buses, not 14`);

  t.server = await startServer();
  const {page, problems} = await launch({width: 1280, height: 800});
  t.page = page;
  t.problems = problems;
  await page.goto(`${t.server.url}/#/designer`);
  const imported = page.waitForResponse((r) => r.url().includes('/api/import'));
  await page.locator('#file-matpower').setInputFiles(casePath);
  const ir = await imported;
  check(ir.status() === 200, `importing answered ${ir.status()}: ${await ir.text()}`);
  const iw = await ir.json();
  check((iw.world || iw).buses.every((b) => Number.isFinite(b.x) && Number.isFinite(b.y)), 'the imported buses have no positions');
  await page.locator('#canvas .bus').nth(13).waitFor();
  check((await page.locator('#canvas .bus').count()) === 14, 'case14 does not show 14 buses');
  check((await page.locator('#canvas .branch').count()) === 20, 'case14 does not show 20 branches');
  // Every bus is inside the canvas after zoom-to-fit.
  const cb = await page.locator('#canvas').boundingBox();
  for (const b of await page.locator('#canvas .bus .node').all()) {
    const bb = await b.boundingBox();
    check(bb.x >= cb.x && bb.y >= cb.y && bb.x + bb.width <= cb.x + cb.width && bb.y + bb.height <= cb.y + cb.height,
          'a bus is outside the canvas after the import (no zoom to fit)');
  }
  await t.shot(page, 'imported');

  const result = page.waitForResponse((r) => /\/api\/jobs\/[^/]+\/result$/.test(r.url()));
  await page.locator('#btn-pf').click();
  const rr = await result;
  check(rr.status() === 200, `the power flow's result: ${rr.status()} ${await rr.text()}`);
  const pf = await rr.json();
  check(pf.converged, 'case14 did not converge');
  await page.locator('#canvas .bus[data-vm]').nth(13).waitFor();
  let worst = 0;
  for (const b of pf.buses) {
    const shown = Number(await page.locator(`#canvas .bus[data-bus="${b.name}"]`).getAttribute('data-vm'));
    const want = ref.get(b.number);
    check(Number.isFinite(shown), `bus ${b.name}: no voltage shown`);
    // Shown to 4 decimals: within half a unit of the last one.
    check(Math.abs(shown - want) <= 0.5e-4 + 1e-9, `bus ${b.name}: Vm shown ${shown}, MATPOWER's ${want}`);
    worst = Math.max(worst, Math.abs(shown - want));
  }
  const b14 = pf.buses.find((b) => b.number === 14);
  const shown14 = await page.locator(`#canvas .bus[data-bus="${b14.name}"]`).getAttribute('data-vm');
  console.log(`import-case14: bus 14: Vm shown ${shown14} p.u., MATPOWER ${ref.get(14)}; largest difference over 14 buses ${worst.toExponential(2)}`);
  check(!(await page.locator('#legend').isHidden()), 'no colour legend after the power flow');
  await t.shot(page, 'power-flow');
  if (process.env.PG_SCREENSHOT_README === '1') {
    const out = path.join(env.source, 'docs/images/designer.png');
    fs.mkdirSync(path.dirname(out), {recursive: true});
    await page.locator(`#canvas .bus[data-bus="${b14.name}"] .node`).click();
    await page.screenshot({path: out});
    console.log(`import-case14: wrote ${out} (${fs.statSync(out).size} bytes)`);
  }
  noPageErrors(t);
});
