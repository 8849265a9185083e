// The dashboard's views in Debian's Chromium, driven by playwright-core.
// Run by test_browser.py: `node views.js CONFIG.json RESULT.json`, with
// NODE_PATH naming the node_modules that npm ci installed. CONFIG says
// where the dashboard is and which fixture studies to open; RESULT gets,
// for each page opened, its final state, console errors, failed requests
// and screenshot, the SSE check and the timings. This script only
// measures and records; test_browser.py decides what passes, so a
// failure there shows every bad view at once, not the first.
'use strict';
const { chromium } = require('playwright-core');
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const [cfgPath, outPath] = process.argv.slice(2);
const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8'));
// A view ends ready, empty (nothing to show) or error (it says why);
// only the first two pass, but waiting on error too fails fast.
const READY = 'main#view[data-state=ready], main#view[data-state=empty]';
const SETTLED = READY + ', main#view[data-state=error]';
const WAIT_MS = 60000;     // a view that takes longer is a failure
const SETTLE_MS = 300;     // late console errors after ready still count

function log(msg) {
    process.stdout.write(msg + '\n');
}

// The hash route of a view: '' is the study's overview, 'trial' its
// detail of one trial; study null is the study list.
function route(study, view, trial) {
    if (study === null)
        return '#/';
    const s = '#/study/' + encodeURIComponent(study);
    if (!view)
        return s;
    return view === 'trial' ? s + '/trial/' + trial : s + '/' + view;
}

// Records what goes wrong on a page from the moment it opens.
function watch(page) {
    const w = { errors: [], failed: [], on: true };
    page.on('console', (m) => {
        if (w.on && m.type() === 'error')
            w.errors.push(m.text() + ' @ ' + JSON.stringify(m.location()));
    });
    page.on('pageerror', (e) => {
        if (w.on)
            w.errors.push('uncaught: ' + (e.stack || e.message));
    });
    page.on('requestfailed', (r) => {
        if (w.on)
            w.failed.push(r.url() + ' ' + (r.failure() || {}).errorText);
    });
    page.on('response', (r) => {
        if (w.on && r.status() >= 400)
            w.failed.push(r.url() + ' ' + r.status());
    });
    return w;
}

// Shows url in page, which w watches: page.goto for a new page (or
// another document), else by setting location.hash, as a click on a tab
// does; the page then replaces main#view, so the old one is marked and
// only a new one counts. Waits for the view to settle, screenshots it to
// shot (unless null) and returns what went wrong meanwhile, with the
// seconds from navigation to settled.
async function show(page, w, url, shot, byHash) {
    const e0 = w.errors.length, f0 = w.failed.length;
    const t0 = Date.now();
    let state = null;
    try {
        if (byHash)
            await page.evaluate((u) => {
                const old = document.getElementById('view');
                if (old)
                    old.dataset.stale = '1';
                location.hash = new URL(u).hash;
            }, url);
        else
            await page.goto(url, { waitUntil: 'commit', timeout: WAIT_MS });
        const el = await page.waitForSelector(
            SETTLED.split(', ').map((x) => x + ':not([data-stale])')
                .join(', '), { timeout: WAIT_MS });
        state = await el.getAttribute('data-state');
        if (await el.getAttribute('data-view') === 'notfound')
            state = 'notfound';
        if (state === 'error')
            w.errors.push('view error: ' + await el.innerText());
    } catch (e) {
        w.errors.push('not settled: ' + e.message.split('\n')[0]);
        state = await page.evaluate(() => {
            const v = document.querySelector('main#view');
            return v ? v.getAttribute('data-state') : 'no main#view';
        }).catch(() => 'gone');
    }
    const seconds = (Date.now() - t0) / 1000;
    await page.waitForTimeout(SETTLE_MS);
    if (shot)
        await page.screenshot({ path: shot }).catch((e) => {
            w.errors.push('screenshot: ' + e.message);
        });
    return { url, state, seconds, shot, errors: w.errors.slice(e0),
             failed: w.failed.slice(f0) };
}

// url in a new page of context, closed after; check(page), if given,
// returns an error or null.
async function visit(context, url, shot, check) {
    const page = await context.newPage();
    const w = watch(page);
    const r = await show(page, w, url, shot, false);
    const bad = check ? await check(page) : null;
    if (bad)
        r.errors.push(bad);
    w.on = false;     // closing aborts the event stream: not a failure
    await page.close();
    return r;
}

function logView(r) {
    log(`${r.state === 'ready' || r.state === 'empty' ? 'ok ' : 'BAD'} `
        + `${r.seconds.toFixed(2)}s ${r.url}`
        + (r.errors.length + r.failed.length
           ? ` (${r.errors.length} errors, ${r.failed.length} failed)` : ''));
}

// Every view of one study in one page: the first loaded, the others
// reached through the hash; prefix names the screenshots.
async function study(context, res, base, f, prefix) {
    const page = await context.newPage();
    const w = watch(page);
    let first = true;
    for (const v of cfg.views) {
        if (v === 'trial' && f.trial === null)
            continue;       // a study without trials has no trial to show
        const url = base + route(f.study, v, f.trial);
        res.expected.push(url);
        const r = await show(page, w, url, path.join(
            cfg.shots, prefix + f.study + '-' + (v || 'overview') + '.png'),
                             !first);
        first = false;
        logView(r);
        res.views.push(r);
    }
    w.on = false;
    await page.close();
}

// The study list, then every view of every fixture study.
async function views(context, res) {
    const base = cfg.base + '/';
    res.expected.push(base + route(null));
    const r = await visit(context, base + route(null),
                          path.join(cfg.shots, 'studies.png'), async (p) => {
        // Without an icon of its own Chromium asks for /favicon.ico, which
        // the dashboard answers 404: a console error, but reported only
        // when it comes before the page is closed. Checked here always.
        if (!await p.$('link[rel~="icon"]'))
            return 'no <link rel="icon">: Chromium asks for /favicon.ico '
                + 'and gets 404, a console error';
        return null;
    });
    logView(r);
    res.views.push(r);
    for (const f of cfg.fixtures)
        await study(context, res, base, f, '');
}

// hpo report's files from file://: every view, no console error.
async function reports(browser, res) {
    const context = await browser.newContext({ viewport: { width: 1280,
                                                          height: 800 } });
    for (const r of cfg.reports)
        await study(context, res, 'file://' + r.file, r, 'report-');
    await context.close();
}

// A trial finished through the CLI shows in the open page: the study's
// trial table (its row of the trial: data-testid=trial-row, data-number),
// which follows the event stream, must come to show the told value.
async function live(context, res) {
    const l = cfg.live;
    const page = await context.newPage();
    const w = watch(page);
    const row = `[data-testid=trial-row][data-number="${l.trial}"]`;
    await page.goto(cfg.base + '/' + route(l.study, 'trials', l.trial));
    await page.waitForSelector(READY, { timeout: WAIT_MS });
    const before = await page.$eval(row, (r) => r.innerText).catch(
        () => null);
    const shown = [String(l.value), l.value.toFixed(3)];
    const t0 = Date.now();
    execFileSync(cfg.hpo, ['--coordinator', cfg.endpoint, 'tell', l.study,
                           String(l.trial), String(l.value)]);
    const told = (Date.now() - t0) / 1000;
    let seen = false;
    if (before === null)
        w.errors.push('no row for trial ' + l.trial + ' before the tell');
    else if (shown.some((s) => before.includes(s)))
        w.errors.push('the row showed the value before the tell: ' + before);
    else
        try {
            await page.waitForFunction(([sel, want]) => {
                const r = document.querySelector(sel);
                return r && want.some((s) => r.innerText.includes(s))
                    && r.innerText.includes('COMPLETE');
            }, [row, shown], { polling: 10, timeout: 5000 });
            seen = true;
        } catch (e) {
            w.errors.push('told value never shown: '
                          + e.message.split('\n')[0]);
        }
    const seconds = (Date.now() - t0) / 1000;
    await page.screenshot({ path: path.join(cfg.shots, 'live-told.png') });
    w.on = false;
    await page.close();
    res.live = { seen, seconds, told, before, errors: w.errors,
                 failed: w.failed };
    log(`live: ${seen ? 'seen' : 'NOT seen'} after ${seconds.toFixed(3)} s`
        + ` (the tell itself took ${told.toFixed(3)} s)`);
}

// Overview and parallel coordinates of the big studies, interleaved,
// each a fresh page: seconds from navigation to ready.
async function timing(context, res) {
    const t = cfg.timing;
    const got = {};
    for (let i = 0; i < t.repeat; i++)
        for (const study of t.studies)
            for (const view of t.views) {
                const r = await visit(context,
                                      cfg.base + '/' + route(study, view, 0),
                                      null);
                const key = study + ' ' + view;
                (got[key] = got[key] || { study, view, seconds: [],
                                          errors: [] }).seconds
                    .push(r.seconds);
                got[key].errors.push(...r.errors, ...r.failed);
                log(`timing ${study} ${view || 'overview'} `
                    + `${r.seconds.toFixed(2)}s`);
            }
    for (const k of Object.keys(got)) {
        const s = got[k].seconds.slice().sort((a, b) => a - b);
        got[k].median = s[Math.floor(s.length / 2)];
        res.timing.push(got[k]);
    }
}

async function main() {
    const browser = await chromium.launch({
        executablePath: cfg.chromium, headless: true,
        // Chromium's sandbox refuses to run as root.
        args: cfg.root ? ['--no-sandbox'] : [],
    });
    const res = { expected: [], views: [], timing: [], live: null };
    try {
        const context = await browser.newContext({
            viewport: { width: 1280, height: 800 } });
        // The token once in the address: the dashboard sets its cookie.
        const page = await context.newPage();
        await page.goto(cfg.base + '/?token=' + cfg.token);
        await page.close();
        await views(context, res);
        await live(context, res);
        await timing(context, res);
        await context.close();
        await reports(browser, res);
    } finally {
        fs.writeFileSync(outPath, JSON.stringify(res, null, 1));
        await browser.close();
    }
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
