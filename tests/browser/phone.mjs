// The designer on a phone-sized screen (390 x 844, touch): it loads, the palette is reachable
// from its drawer button, a bus is added by tapping the canvas, its properties open, and the
// controls are big enough to touch (at least 40 px), and Run power flow is on the screen.

import {check, launch, noPageErrors, run, startServer} from './lib.mjs';

await run('phone', async (t) => {
  t.server = await startServer();
  const {page, problems} = await launch({width: 390, height: 844});
  t.page = page;
  t.problems = problems;
  await page.goto(`${t.server.url}/#/designer`);
  await page.locator('#canvas-hint').waitFor({state: 'visible'});
  const doc = await page.evaluate(() => ({w: document.documentElement.scrollWidth, h: document.documentElement.clientHeight}));
  check(doc.w <= 390, `the page is ${doc.w} px wide on a 390 px screen`);
  await t.shot(page, 'loaded');
  // The runs are on the screen without scrolling the toolbar.
  const pfb = await page.locator('#btn-pf').boundingBox();
  check(pfb && pfb.x >= 0 && pfb.x + pfb.width <= 390, `Run power flow is off the screen (x ${pfb && pfb.x}) until the toolbar is scrolled`);
  const toggle = page.locator('#toggle-palette');
  check(await toggle.isVisible(), 'no palette button on a phone');
  await toggle.tap();
  const tool = page.locator('.tool[data-tool="bus"]');
  await tool.waitFor({state: 'visible'});
  // The drawer slides in: wait (up to 5 s, a loaded machine animates slowly) until it is on the
  // screen, then check where it settled.
  let tb = await tool.boundingBox();
  for (let k = 0; k < 50 && !(tb && tb.x >= 0 && tb.x + tb.width <= 390); k++) {
    await page.waitForTimeout(100);
    tb = await tool.boundingBox();
  }
  check(tb && tb.x >= 0 && tb.x + tb.width <= 390, `the palette is not on the screen after opening it: ${JSON.stringify(tb)}`);
  for (const sel of ['.tool', '#toggle-palette', '#toggle-panel', '#btn-pf', '#btn-undo']) {
    for (const e of await page.locator(sel).all()) {
      const b = await e.boundingBox();
      if (b) check(b.height >= 40, `${sel} is ${b.height} px high: too small to touch`);
    }
  }
  await page.waitForTimeout(300); // the drawer's slide
  await t.shot(page, 'palette');
  await tool.tap();
  const cb = await page.locator('#canvas').boundingBox();
  await page.touchscreen.tap(cb.x + cb.width / 2, cb.y + cb.height / 2);
  await page.locator('#canvas .bus').first().waitFor();
  check((await page.locator('#canvas .bus').count()) === 1, 'tapping the canvas did not add one bus');
  await page.locator('#f-buses-name').waitFor({state: 'visible'});
  await page.waitForTimeout(300);
  await t.shot(page, 'bus-added');
  // The properties drawer closes from its button; the bus stays.
  await page.locator('#toggle-panel').tap();
  await page.waitForTimeout(300);
  const pb = await page.locator('#panel').boundingBox();
  check(pb.x >= 389, 'the properties drawer does not close');
  noPageErrors(t);
});
