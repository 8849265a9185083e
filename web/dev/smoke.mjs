// Opens every view of every fixture study in headless Chromium against a
// running mock (or a real coordinator: --base URL, --token T) and fails on
// any console error, page error or a view that does not reach
// data-state ready/empty. Prints the time each view took.
//
//   node dev/smoke.mjs [--base http://127.0.0.1:8765] [--shots DIR]
//                      [--studies a,b] [--views history,parallel]
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const base = opt('--base', 'http://127.0.0.1:8765');
const shots = opt('--shots', null);
const token = opt('--token', null);
const VIEWS = (opt('--views', 'overview,history,parallel,importance,trials,curves,'
                   + 'slice,contour,timeline,trial/0')).split(',');
if (shots) mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
                                        args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const problems = [];
page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
if (token) await page.goto(`${base}/?token=${token}`);
await page.goto(base + (opt('--path', '/')));
const list = await page.evaluate(async () => (await (await fetch('/api/studies',
    { credentials: 'same-origin' })).json()).studies.map((s) => s.name)).catch(() => null);
const studies = opt('--studies', null)?.split(',') || list || ['reruns'];
let failed = 0;
async function visit(hash, label) {
    const before = problems.length;
    const t0 = Date.now();
    await page.evaluate((h) => { location.hash = h; }, hash);
    let state = 'timeout';
    try {
        await page.waitForFunction((h) => {
            const m = document.getElementById('view');
            return location.hash === h && m && ['ready', 'empty', 'error']
                .includes(m.dataset.state) && m.dataset.state;
        }, hash, { timeout: 30000 });
        state = await page.$eval('#view', (m) => `${m.dataset.view}:${m.dataset.state}`);
    } catch (e) { /* timeout */ }
    const ms = Date.now() - t0;
    const bad = state.endsWith(':error') || state === 'timeout' || problems.length > before;
    if (bad) failed++;
    console.log(`${bad ? 'FAIL' : 'ok  '} ${label.padEnd(32)} ${state.padEnd(20)} ${ms} ms`
                + (problems.length > before ? '\n     ' + problems.slice(before).join('\n     ') : ''));
    if (shots) await page.screenshot({ path: `${shots}/${label.replace(/[^\w.-]+/g, '_')}.png` });
}
await visit('#/', 'studies');
for (const s of studies)
    for (const v of VIEWS)
        await visit(`#/study/${encodeURIComponent(s)}/${v}`, `${s}/${v}`);
// Live: the mock's study "live" gains trials over the event stream; the
// table must grow without a reload.
if (studies.includes('live') && !opt('--path', '').includes('report')) {
    await visit('#/study/live/trials', 'live/trials (SSE)');
    const count = () => page.$eval('#view', (m) => m.querySelector('.note').textContent);
    const before = await count();
    let after = before;
    for (let k = 0; k < 20 && after === before; k++) {
        await page.waitForTimeout(500);
        after = await count();
    }
    const ok = after !== before;
    if (!ok) failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} live update: "${before}" -> "${after}"`);
    // Learning curves grow from value events (the mock's running trials
    // report a step every tick): the chart's point count must rise.
    await visit('#/study/live/curves', 'live/curves (SSE)');
    const points = () => page.evaluate(() => {
        const el = document.querySelector('#view .chart');
        const c = el && el.querySelector('canvas');
        return document.querySelector('#view .note').textContent + '|' + (c ? 1 : 0);
    });
    const c0 = await points();
    let c1 = c0;
    for (let k = 0; k < 20 && c1 === c0; k++) { await page.waitForTimeout(500); c1 = await points(); }
    const ok2 = c1 !== c0;
    if (!ok2) failed++;
    console.log(`${ok2 ? 'ok  ' : 'FAIL'} live curves: "${c0}" -> "${c1}"`);
}
// --late MS: for a mock run with --slow-detail MS2 (MS2 < MS): a fresh
// page on the live study's trial table gets the table at once and the
// study (and the list) MS2 later, with a newer version; its event stream
// must start from the older one, or the changes in between would be lost:
// the page's RUNNING trials must be the mock's.
if (opt('--late', null)) {
    const p2 = await browser.newPage();
    p2.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await p2.goto(base + '/#/study/live/trials');
    await p2.waitForFunction(() => document.getElementById('view').dataset.state === 'ready',
                             null, { timeout: Number(opt('--late')) + 30000 });
    await p2.waitForTimeout(1200);
    // The RUNNING rows: a trial that ended in the gap and whose last event
    // was lost would still be RUNNING here.
    for (const st of ['COMPLETE', 'PRUNED', 'FAILED', 'WAITING'])
        await p2.click(`[data-testid="state-${st}"]`);
    const running = async () => (await (await fetch(base + '/api/studies/live/trials')).json())
        .state.filter((x) => x === 'RUNNING').length;
    let ok = false, rows, served;
    for (let k = 0; k < 5 && !ok; k++) {
        const s0 = await running();
        rows = await p2.$eval('#view .note', (e) => parseInt(e.textContent, 10));
        served = await running();
        ok = rows === s0 || rows === served;     // a tick may be in flight
        if (!ok) await p2.waitForTimeout(300);
    }
    if (!ok) failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} late table: page ${rows} RUNNING trials, mock ${served}`);
    await p2.close();
}

// The controls: each must work and log no error.
if (studies.includes('reruns') && !opt('--no-controls', null)) {
    const before = problems.length;
    const check = (what, ok) => {
        if (!ok) failed++;
        console.log(`${ok ? 'ok  ' : 'FAIL'} control: ${what}`);
    };
    await visit('#/study/reruns/parallel', 'reruns/parallel (controls)');
    const order = () => page.$$eval('[data-testid=axis-list] li',
                                    (ls) => ls.map((l) => l.dataset.axis).join(','));
    const o1 = await order();
    await page.click('[data-testid="axis-down-lr"]');
    check('axis reorder', (await order()) !== o1);
    await page.click('[data-testid="axis-flip-layers"]');
    await page.click('[data-testid="axis-log-lr"]');
    // Brush along the last (objective) axis: the chart's right end.
    const box = await page.$eval('#view .chart', (e) => {
        const r = e.getBoundingClientRect();
        return { x: r.x, y: r.y, w: r.width, h: r.height };
    });
    const x = box.x + box.w - 150, top = box.y + 50, bot = box.y + box.h - 40;
    const y0 = top + (bot - top) * 0.5, y1 = top + (bot - top) * 0.9;
    await page.mouse.move(x, y0);
    await page.mouse.down();
    await page.mouse.move(x, (y0 + y1) / 2, { steps: 5 });
    await page.mouse.move(x, y1, { steps: 5 });
    await page.mouse.up();
    await page.waitForTimeout(300);
    const brushed = await page.$eval('[data-testid=brushed]', (e) => e.textContent);
    const all = await page.$eval('#view .note', (e) => parseInt(e.textContent, 10));
    const got = parseInt(brushed, 10);
    check(`brush: ${got} of ${all} trials brushed`, got > 0 && got < all);
    await page.click('[data-testid=brushed-to-table]');
    await page.waitForFunction(() => document.getElementById('view').dataset.state === 'ready'
                               && document.getElementById('view').dataset.view === 'trials');
    const shownRows = await page.$eval('#view .note', (e) => parseInt(e.textContent, 10));
    check(`brushed trials in the table: ${shownRows}`, shownRows === got);
    await visit('#/study/reruns/parallel', 'reruns/parallel (again)');
    await page.fill('[data-testid=topk]', '10');
    await page.press('[data-testid=topk]', 'Enter');
    await page.waitForTimeout(200);
    check('top-k', /^\d+ trials/.test(await page.$eval('#view .note', (e) => e.textContent)));
    await visit('#/study/reruns/trials', 'reruns/trials (controls)');
    const rows = () => page.$$eval('[data-testid=trial-row]', (r) => r.map((x) => x.dataset.number));
    await page.click('[data-testid="sort-number"]');
    check('sort descending', Number((await rows())[0]) > Number((await rows())[1]));
    await page.fill('[data-testid=table-filter]', 'FAILED');
    await page.waitForTimeout(100);
    const failedRows = await page.$$eval('[data-testid=trial-row]',
        (r) => r.every((x) => x.className.includes('state-FAILED')) && r.length);
    check('filter', failedRows > 0);
    await page.fill('[data-testid=table-filter]', '');
    await page.fill('[data-testid=jump]', '12');
    await page.press('[data-testid=jump]', 'Enter');
    check('jump', await page.$$eval('.tr.hl', (r) => r.length === 1 && r[0].dataset.number === '12'));
    await page.click('[data-testid="state-COMPLETE"]');
    await page.waitForTimeout(100);
    check('state filter', await page.$$eval('[data-testid=trial-row]',
        (r) => r.length > 0 && r.every((x) => !x.className.includes('state-COMPLETE'))));
    await page.click('[data-testid="state-COMPLETE"]');
    await page.click('[data-testid="trial-row"]');
    await page.waitForFunction(() => document.getElementById('view').dataset.view === 'trial');
    check('row -> trial detail', true);
    await visit('#/study/reruns/history', 'reruns/history (controls)');
    await page.click('[data-testid="log-toggle"]');
    await visit('#/study/reruns/contour', 'reruns/contour (controls)');
    await page.selectOption('[data-testid=contour-y]', 'opt');
    await page.waitForTimeout(200);
    check('no errors from the controls', problems.length === before);
    if (problems.length > before) console.log('     ' + problems.slice(before).join('\n     '));
}
await browser.close();
console.log(failed ? `${failed} view(s) failed` : 'every view ok');
process.exit(failed ? 1 : 0);
