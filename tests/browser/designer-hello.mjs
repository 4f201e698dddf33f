// Builds the hello microworld (examples/hello-microworld.json: 3 buses, a line and a transformer,
// 3 loads, a diesel unit, solar, wind and hydro units and their day profiles) by clicking in the
// designer's palette and canvas and filling the side panel; saves it; checks that the server has
// exactly the example's world; runs the power flow and checks every bus's voltage shown against
// the job's result from the API and against `plurigrid pf --json` of the example file.

import fs from 'node:fs';
import path from 'node:path';
import {check, cli, env, launch, noPageErrors, run, startServer} from './lib.mjs';

const example = JSON.parse(fs.readFileSync(path.join(env.source, 'examples/hello-microworld.json'), 'utf8'));

async function field(page, section, key, value) {
  const loc = page.locator(`#f-${section}-${key}`);
  const tag = await loc.evaluate((e) => e.tagName);
  if (tag === 'SELECT') await loc.selectOption(String(value));
  else {
    await loc.fill(String(value));
    await loc.press('Tab');
  }
  const problem = await page.locator(`#f-${section}-${key}-problem`).textContent();
  check(!problem, `${section}.${key} = ${value}: the panel says "${problem}"`);
}

async function clickBus(page, name) {
  await page.locator(`#canvas .bus[data-bus="${name}"] .node`).click();
}

await run('designer-hello', async (t) => {
  t.server = await startServer();
  const {page, problems} = await launch();
  t.page = page;
  t.problems = problems;
  const base = t.server.url;
  await page.goto(`${base}/#/designer`);
  await page.locator('#canvas-hint').waitFor({state: 'visible'});
  check((await page.locator('#canvas-hint').textContent()).includes('Add a bus from the palette'), 'no hint on the empty canvas');
  await t.shot(page, 'empty');

  // World name, and the profiles (one a line) in the world's panel.
  await page.locator('#world-name').fill(example.name);
  await page.locator('#world-name').press('Tab');
  await field(page, 'world', 'description', example.description);
  await page.locator('#f-series').fill(example.series.map((s) => `${s.name}: ${s.values.join(', ')}`).join('\n'));
  await page.locator('#f-series').press('Tab');

  // Three buses, placed by clicking the canvas.
  const box = await page.locator('#canvas').boundingBox();
  const at = [[0.25, 0.3], [0.7, 0.3], [0.45, 0.7]];
  await page.locator('.tool[data-tool="bus"]').click();
  for (const [i, b] of example.buses.entries()) {
    await page.mouse.click(box.x + box.width * at[i][0], box.y + box.height * at[i][1]);
    await field(page, 'buses', 'name', b.name);
    await field(page, 'buses', 'type', b.type || 'pq');
    await field(page, 'buses', 'base_kv', b.base_kv);
  }
  check((await page.locator('#canvas .bus').count()) === 3, 'three buses are not drawn');
  await t.shot(page, 'buses');

  // The line and the transformer: click the from bus, then the to bus.
  for (const br of example.branches) {
    await page.locator(`.tool[data-tool="${br.kind || 'line'}"]`).click();
    await clickBus(page, br.from);
    await clickBus(page, br.to);
    await field(page, 'branches', 'name', br.name);
    for (const k of ['r', 'x', 'b', 'rate_a']) await field(page, 'branches', k, br[k] ?? 0);
  }
  check((await page.locator('#canvas .branch').count()) === 2, 'two branches are not drawn');

  // Units: pick the palette item, click the bus, fill the panel.
  const units = [['loads', 'load'], ['thermals', 'generator'], ['renewables', 'renewable']];
  for (const [section, tool] of units) {
    for (const u of example[section]) {
      await page.locator(`.tool[data-tool="${tool}"]`).click();
      await clickBus(page, u.bus);
      await field(page, section, 'name', u.name);
      for (const [k, v] of Object.entries(u)) {
        if (k === 'name' || k === 'bus') continue;
        if (k === 'cost' && typeof v === 'object') await field(page, section, k, v.coef.join(', '));
        else await field(page, section, k, v);
      }
    }
  }
  await page.keyboard.press('Escape');
  await t.shot(page, 'built');

  // A field out of range is shown next to the field, as the library's validation says it.
  await clickBus(page, 'bus1');
  await page.locator('#f-buses-vmin').fill('1.2');
  await page.locator('#f-buses-vmin').press('Tab');
  const vminProblem = await page.locator('#f-buses-vmin-problem').textContent();
  check(/at most/.test(vminProblem), `vmin 1.2 > vmax 1.1 shows "${vminProblem}" next to the field`);
  await t.shot(page, 'field-problem');
  // Undo (Ctrl+Z) takes it back; redo and undo again.
  await page.locator('#canvas').focus();
  await page.keyboard.press('Control+z');
  check((await page.locator('#f-buses-vmin').inputValue()) === '0.9', 'Ctrl+Z did not take vmin back to 0.9');
  await page.keyboard.press('Control+Shift+z');
  check((await page.locator('#f-buses-vmin').inputValue()) === '1.2', 'Ctrl+Shift+Z did not redo vmin 1.2');
  await page.locator('#btn-undo').click();
  check(!(await page.locator('#f-buses-vmin-problem').textContent()), 'the problem stays after undo');

  // What only the server checks (an availability above 1) comes back as its 422, shown with the
  // JSON path; undo, and the world saves.
  await page.keyboard.press('Escape');
  const profiles = page.locator('#f-series');
  await profiles.fill((await profiles.inputValue()).replace(/^solar_gen: 0,/m, 'solar_gen: 1.5,'));
  await profiles.press('Tab');
  const refused = page.waitForResponse((r) => r.url().includes('/api/worlds/') && r.request().method() === 'PUT');
  await page.locator('#btn-save').click();
  const rf = await refused;
  check(rf.status() === 422, `saving an availability of 1.5 answered ${rf.status()}, not 422`);
  await page.locator('#error').waitFor({state: 'visible'});
  const shown = await page.locator('#error .msg').textContent();
  const sent = (await rf.json()).error;
  check(shown.includes(sent.message), `the error bar says "${shown}", not the server's "${sent.message}"`);
  check(!sent.path || shown.includes(sent.path), `the error bar does not show the path ${sent.path}: "${shown}"`);
  console.log(`designer-hello: the server's 422 shown: ${shown}`);
  await t.shot(page, 'server-422');
  await page.locator('#canvas').focus();
  await page.keyboard.press('Control+z');

  // Save, and the server has the example's world (bus positions aside).
  const saved = page.waitForResponse((r) => r.url().includes('/api/worlds/') && r.request().method() === 'PUT');
  await page.locator('#btn-save').click();
  const sr = await saved;
  check(sr.status() === 201, `saving answered ${sr.status()}: ${await sr.text()}`);
  const got = await (await fetch(`${base}/api/worlds/${example.name}`)).json();
  for (const b of got.buses) {
    delete b.x;
    delete b.y;
  }
  const sorted = (v) => (Array.isArray(v) ? v.map(sorted) : v && typeof v === 'object'
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted(v[k])])) : v);
  const norm = (w) => JSON.stringify(sorted(w));
  check(norm(got) === norm(example), `the saved world differs from the example:\n${JSON.stringify(got)}\n${JSON.stringify(example)}`);

  // Download gives the same world as a file.
  const dl = page.waitForEvent('download');
  await page.locator('#btn-download').click();
  const file = await (await dl).path();
  const down = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const b of down.buses) {
    check(Number.isFinite(b.x) && Number.isFinite(b.y), `the downloaded ${b.name} has no position`);
    delete b.x;
    delete b.y;
  }
  check(norm(down) === norm(example), `the downloaded world differs from the example:\n${JSON.stringify(down)}`);

  // Power flow: the voltages shown are the API's and the command's.
  const result = page.waitForResponse((r) => /\/api\/jobs\/[^/]+\/result$/.test(r.url()));
  await page.locator('#btn-pf').click();
  const rr = await result;
  check(rr.status() === 200, `the power flow's result: ${rr.status()} ${await rr.text()}`);
  const pf = await rr.json();
  check(pf.converged, 'the power flow did not converge');
  await page.locator('#canvas .bus[data-vm]').nth(2).waitFor();
  const pfCli = cli(['pf', path.join(env.source, 'examples/hello-microworld.json'), '--json', '-']);
  check(pfCli.status === 0, `plurigrid pf failed: ${pfCli.stderr}`);
  const ref = JSON.parse(pfCli.stdout);
  for (const b of example.buses) {
    const shown = await page.locator(`#canvas .bus[data-bus="${b.name}"]`).getAttribute('data-vm');
    const label = await page.locator(`#canvas .bus[data-bus="${b.name}"] .vm`).textContent();
    const cell = await page.locator(`#pf-buses tr[data-bus="${b.name}"] td.vm`).textContent();
    const api = pf.buses.find((x) => x.name === b.name).vm_pu;
    const cmd = ref.buses.find((x) => x.name === b.name).vm_pu;
    check(shown === api.toFixed(4), `${b.name}: shown Vm ${shown}, the API's ${api}`);
    check(shown === cmd.toFixed(4), `${b.name}: shown Vm ${shown}, plurigrid pf's ${cmd}`);
    check(label.startsWith(shown) && cell === shown, `${b.name}: the label "${label}" and the table's "${cell}" are not ${shown}`);
    console.log(`designer-hello: ${b.name}: Vm shown ${shown} p.u., API ${api}, plurigrid pf ${cmd}`);
  }
  // A voltage away from 1.0 gets its own colour (the buses are coloured by Vm).
  const fills = await page.locator('#canvas .bus .node').evaluateAll((ns) => ns.map((n) => n.style.fill));
  check(fills.every((f) => f), 'buses are not coloured after the power flow');
  await page.locator(`#canvas .bus[data-bus="bus1"] .node`).click();
  await t.shot(page, 'power-flow');
  noPageErrors(t, [/status of 422/]); // the refused save above
});
