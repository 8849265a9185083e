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
}
await browser.close();
console.log(failed ? `${failed} view(s) failed` : 'every view ok');
process.exit(failed ? 1 : 0);
