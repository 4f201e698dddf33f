// What a newcomer does to a drawing besides building it: reloads the page (the drawing comes
// back, nothing was saved), deletes a bus that has a branch and a load (the status says what went
// with it, and Undo brings everything back), reads the day-ahead summary of a world without
// profiles (one step, and how to make it a day), draws a line with the keyboard alone, and picks
// files with the wrong button (a MATPOWER case with Upload, a world with Import MATPOWER).

import path from 'node:path';
import {check, env, launch, noPageErrors, run, startServer} from './lib.mjs';

const counts = (page) => page.evaluate(() => ({
  buses: document.querySelectorAll('#canvas .bus').length,
  branches: document.querySelectorAll('#layer-branches > *').length,
  units: document.querySelectorAll('#layer-units > *').length,
}));

await run('designer-edits', async (t) => {
  t.server = await startServer();
  const {page, problems} = await launch();
  t.page = page;
  t.problems = problems;
  await page.goto(`${t.server.url}/#/designer`);
  await page.locator('#canvas-hint').waitFor({state: 'visible'});

  // Two buses, a line, a load on the second bus, a generator on the first.
  const box = await page.locator('#canvas').boundingBox();
  await page.locator('.tool[data-tool="bus"]').click();
  await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.4);
  await page.mouse.click(box.x + box.width * 0.7, box.y + box.height * 0.4);
  const bus = (i) => page.locator('#canvas .bus .node').nth(i);
  await page.locator('.tool[data-tool="line"]').click();
  await bus(0).click();
  await bus(1).click();
  await page.locator('.tool[data-tool="load"]').click();
  await bus(1).click();
  await page.locator('.tool[data-tool="generator"]').click();
  await bus(0).click();
  const built = await counts(page);
  check(built.buses === 2 && built.branches === 1 && built.units === 2, `built ${JSON.stringify(built)}, not 2 buses, 1 branch, 2 units`);

  // A reload keeps the drawing (it was never saved).
  await page.reload();
  await page.locator('#canvas .bus').first().waitFor({timeout: 10000});
  const back = await counts(page);
  check(JSON.stringify(back) === JSON.stringify(built), `after a reload the drawing is ${JSON.stringify(back)}, not ${JSON.stringify(built)}`);
  check((await page.locator('#status').textContent()).includes('last drawing'), 'after a reload the status does not say the drawing came back');
  await t.shot(page, 'reloaded');

  // Deleting the second bus takes its line and its load, and says so; Undo brings them back.
  await page.locator('.tool[data-tool="select"]').click();
  await bus(1).click();
  await page.keyboard.press('Delete');
  const status = await page.locator('#status').textContent();
  check(/with its 1 branch and 1 unit/.test(status), `deleting a bus with a line and a load says "${status}"`);
  const after = await counts(page);
  check(after.buses === 1 && after.branches === 0 && after.units === 1, `after deleting the bus: ${JSON.stringify(after)}`);
  await t.shot(page, 'deleted');
  await page.keyboard.press('Control+z');
  const undone = await counts(page);
  check(JSON.stringify(undone) === JSON.stringify(built), `after Undo: ${JSON.stringify(undone)}, not ${JSON.stringify(built)}`);

  // A world without profiles is one step: the summary says "1 step". The results open below the
  // canvas, which gets smaller: the drawing (fitted to the canvas when the page opened with it)
  // stays in view.
  const where = () => page.evaluate(() => {
    const c = document.getElementById('canvas').getBoundingClientRect();
    return [...document.querySelectorAll('#canvas .bus .node')].map((n) => {
      const r = n.getBoundingClientRect();
      return {x: (r.x + r.width / 2 - c.x) / c.width, y: (r.y + r.height / 2 - c.y) / c.height};
    });
  });
  const placed = await where();
  await page.locator('#btn-day').click();
  await page.locator('#day-results').waitFor({state: 'visible', timeout: 60000});
  await page.waitForTimeout(200);
  const moved = await where();
  for (const [i, p] of moved.entries()) {
    check(p.x > 0 && p.x < 1 && p.y > 0 && p.y < 1,
          `with the day-ahead results open, bus ${i + 1} is at ${JSON.stringify(p)} of the canvas (before: ${JSON.stringify(placed[i])})`);
  }
  const summary = await page.locator('#day-summary').textContent();
  check(summary.startsWith('1 step of ') && summary.includes('no profiles'), `the day-ahead summary of a one-step world without profiles reads "${summary}"`);
  await t.shot(page, 'day');

  // With the keyboard only: the Line tool (L), Tab to a bus, Enter, Tab to the next, Enter.
  await page.locator('#canvas').focus();
  await page.keyboard.press('Escape');
  await page.keyboard.press('l');
  await page.locator('#canvas').focus();
  const focused = () => page.evaluate(() => document.activeElement.dataset.bus || document.activeElement.id || document.activeElement.tagName);
  const visit = [];
  for (;;) {
    await page.keyboard.press('Tab');
    const f = await focused();
    if (f === 'bus1' || f === 'bus2') break;
    check(visit.length < 10, `Tab from the canvas does not reach a bus: ${visit.join(', ')}`);
    visit.push(f);
  }
  const first = await focused();
  await page.keyboard.press('Enter');
  check((await focused()) === first, `after Enter on ${first} the focus is on ${await focused()}`);
  await page.keyboard.press('Tab');
  const second = await focused();
  check(second !== first && (second === 'bus1' || second === 'bus2'), `Tab after Enter on ${first} goes to ${second}, not the other bus`);
  await page.keyboard.press('Enter');
  const kb = await counts(page);
  check(kb.branches === built.branches + 1, `drawing a line with the keyboard: ${kb.branches} branches, not ${built.branches + 1}`);
  await t.shot(page, 'keyboard-line');

  // A file picked with the wrong button: the error says which button it needs, and the drawing
  // stays.
  await page.locator('#file-world').setInputFiles(path.join(env.data, 'matpower/cases/case9.m'));
  await page.locator('#error', {hasText: 'Import MATPOWER'}).waitFor({timeout: 10000});
  await page.locator('#file-matpower').setInputFiles(path.join(env.source, 'examples/hello-microworld.json'));
  await page.locator('#error', {hasText: 'Upload'}).waitFor({timeout: 10000});
  check((await counts(page)).branches === built.branches + 1, 'a file refused changed the drawing');
  await page.locator('#error-close').click();

  // New empties the drawing, and a reload then opens an empty one.
  await page.locator('#btn-new').click();
  await page.reload();
  await page.locator('#canvas-hint').waitFor({state: 'visible'});
  check((await counts(page)).buses === 0, 'after New and a reload, the old drawing came back');
  noPageErrors(t);
});
