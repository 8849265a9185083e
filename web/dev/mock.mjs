// A stand-in for the coordinator's dashboard, for developing the page
// without one: serves dist/index.html and the API of docs/dashboard.md
// from the fixtures in dev/fixtures.mjs, with an event stream that keeps
// study "live" moving. No token is asked for.
//
//   node dev/mock.mjs [--port 8765] [--write DIR] [--tick MS]
//                       [--slow-trials MS] [--slow-detail MS]
//
// --write DIR writes every API answer as a JSON file instead (the paths
// as file names) and exits. GET /report.html serves the page as hpo
// report would write it for study "reruns" (or ?study=NAME).
import http from 'node:http';
import zlib from 'node:zlib';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtures, addTrial, rng } from './fixtures.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const S = fixtures();
let version = 1;
const ring = [];            // [id, type, data]
const clients = new Set();
const now = () => Date.now() / 1000;

function counts(st) {
    const c = { WAITING: 0, RUNNING: 0, COMPLETE: 0, PRUNED: 0, FAILED: 0 };
    for (const t of st.trials) c[t.state] = (c[t.state] || 0) + 1;
    return c;
}
function studyDoc(st) {
    let best = null, ended = 0;
    for (const t of st.trials) {
        if (t.state === 'COMPLETE' && (best === null || t.value < best.value))
            best = { number: t.number, value: t.value };
        if (t.ended && t.ended > now() - 600) ended++;
    }
    return { ...st.info, counts: counts(st), trials: st.trials.length, best,
             trials_per_minute: ended / 10, params: st.space.map((p) => p.name) };
}
const WORKERS = ['gpu1', 'gpu2', 'gpu3', 'gpu4'].map((name, i) => ({
    name, host: 'node' + i, slots: 2, running: 1, last_heartbeat: null,
    age: 0.4, alive: i < 3, pid: 1000 + i, cpus: 8, cpus_used: 2, gpus: [] }));
function workersDoc() {
    return WORKERS.map((w) => ({ ...w, last_heartbeat: now() - w.age }));
}
function columns(rows, cols) {
    const out = { version, n: rows.length };
    for (const c of cols) out[c] = rows.map((r) => r[c] ?? null);
    return out;
}
function trialsDoc(st) {
    const d = columns(st.trials, ['number', 'state', 'value', 'attempt', 'worker',
        'started', 'ended', 'last_step', 'last_value', 'reason']);
    d.params = {};
    for (const p of st.space) d.params[p.name] = st.trials.map((t) => t.params[p.name] ?? null);
    return d;
}
function importanceDoc(st) {
    const done = st.trials.filter((t) => t.state === 'COMPLETE');
    const rank = (xs) => { const ix = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
                           const r = new Array(xs.length); ix.forEach((i, k) => { r[i] = k; }); return r; };
    const params = st.space.map((p) => {
        const rows = done.filter((t) => typeof t.params[p.name] === 'number');
        let sp = null;
        if (rows.length > 2) {
            const a = rank(rows.map((t) => t.params[p.name])), b = rank(rows.map((t) => t.value));
            const n = a.length, m = (n - 1) / 2;
            let num = 0, da = 0, db = 0;
            for (let i = 0; i < n; i++) { num += (a[i] - m) * (b[i] - m); da += (a[i] - m) ** 2; db += (b[i] - m) ** 2; }
            sp = da && db ? num / Math.sqrt(da * db) : null;
        }
        return { name: p.name, importance: sp === null ? 0.05 : Math.abs(sp) + 0.05, spearman: sp };
    });
    const sum = params.reduce((s, p) => s + p.importance, 0);
    for (const p of params) p.importance = done.length >= 2 ? p.importance / sum : null;
    params.sort((a, b) => (b.importance ?? 0) - (a.importance ?? 0));
    return { version, method: 'ped-anova', n_trials: done.length, params };
}

function answer(path, q) {
    if (path === '/api/studies')
        return { version, now: now(), studies: [...S.values()].map(studyDoc),
                 workers: workersDoc() };
    if (path === '/api/workers') return { version, now: now(), workers: workersDoc() };
    const m = path.match(/^\/api\/studies\/([^/]+)(\/.*)?$/);
    if (!m) return null;
    const st = S.get(decodeURIComponent(m[1]));
    if (!st) return [404, { error: `no study named "${decodeURIComponent(m[1])}"` }];
    const sub = m[2] || '';
    if (sub === '') return { version, study: studyDoc(st), spec: st.spec, space: st.space,
                             metrics: st.values.length ? ['val_loss'] : [] };
    if (sub === '/trials') return trialsDoc(st);
    if (sub === '/curves') {
        const metric = q.get('metric') || st.info.metric;
        const want = q.get('trials') ? new Set(q.get('trials').split(',').map(Number)) : null;
        const vs = st.values.filter((v) => v.metric === metric && (!want || want.has(v.number))
            && v.attempt === st.trials[v.number].attempt)
            .sort((a, b) => a.number - b.number || a.step - b.step);
        return { ...columns(vs, ['number', 'step', 'value']), metric };
    }
    if (sub === '/importance') return importanceDoc(st);
    if (sub === '/timeline')
        return columns(st.attempts.slice().sort((a, b) => a.started - b.started),
            ['number', 'attempt', 'worker', 'started', 'ended', 'outcome', 'reason']);
    const tm = sub.match(/^\/trials\/(\d+)$/);
    if (tm) {
        const t = st.trials[Number(tm[1])];
        if (!t) return [404, { error: `no trial ${tm[1]}` }];
        return { version, trial: t,
                 attempts: st.attempts.filter((a) => a.number === t.number),
                 values: st.values.filter((v) => v.number === t.number)
                     .map(({ attempt, step, metric, value }) => ({ attempt, step, metric, value })) };
    }
    return [404, { error: 'no such path' }];
}

function page() { return readFileSync(join(here, '..', 'dist', 'index.html'), 'utf8'); }

// The page as hpo report writes it (docs/dashboard.md "The report").
function reportPage(name) {
    const st = S.get(name);
    const base = '/api/studies/' + encodeURIComponent(name);
    const api = { '/api/studies': { ...answer('/api/studies', new URLSearchParams()),
                                    studies: [studyDoc(st)], workers: [] } };
    for (const p of ['', '/trials', '/importance', '/timeline'])
        api[base + p] = answer(base + p, new URLSearchParams());
    api[base + '/curves?metric=val_loss'] = answer(base + '/curves', new URLSearchParams());
    const ended = st.trials.filter((t) => t.ended);
    const pick = new Set([...ended.slice().filter((t) => t.value !== null)
        .sort((a, b) => a.value - b.value).slice(0, 50), ...ended.slice(-50)].map((t) => t.number));
    for (const n of pick) api[base + '/trials/' + n] = answer(base + '/trials/' + n);
    const doc = JSON.stringify({ mode: 'report', generated: now(), api }).replace(/<\//g, '<\\/');
    const html = page();
    const at = html.indexOf('<script');
    return html.slice(0, at) + `<script id="hpo-data" type="application/json">${doc}</script>\n`
        + html.slice(at);
}

function send(req, res, status, body, type) {
    let buf = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const headers = { 'Content-Type': type || 'application/json; charset=utf-8',
                      'Cache-Control': 'no-store' };
    if (/\bgzip\b/.test(req.headers['accept-encoding'] || '')) {
        buf = zlib.gzipSync(buf); headers['Content-Encoding'] = 'gzip';
    }
    res.writeHead(status, headers);
    res.end(req.method === 'HEAD' ? undefined : buf);
}

// ---- the event stream --------------------------------------------------

function emit(type, data) {
    const id = ++version;
    ring.push([id, type, data]);
    if (ring.length > 5000) ring.shift();
    for (const res of clients) res.write(`id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
}

function events(req, res, q) {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
    const since = Number(req.headers['last-event-id'] || q.get('since') || 0);
    if (since) {
        if (ring.length && since < ring[0][0] - 1) res.write(`id: ${version}\nevent: reset\ndata: {}\n\n`);
        else for (const [id, type, data] of ring)
            if (id > since) res.write(`id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    }
    clients.add(res);
    req.on('close', () => clients.delete(res));
}

// Study "live" moves every half second: a new trial starts, a running one
// reports a value, one ends (COMPLETE or PRUNED).
const r = rng(99);
function tick() {
    const st = S.get('live');
    const running = st.trials.filter((t) => t.state === 'RUNNING');
    if (st.trials.length < 500 && running.length < 4) {
        const n = st.trials.length;
        const t = addTrial(st, n, 'RUNNING', r, false, 0);
        t.started = now();
        const a = st.attempts[st.attempts.length - 1];
        a.started = t.started; a.ended = null; a.outcome = 'RUNNING';
        emit('trial', { study: 'live', trial: t });
    }
    for (const t of running) {
        const step = (t.last_step ?? -1) + 1;
        const value = 0.1 + 0.6 * Math.exp(-step / 4) + 0.05 * r();
        st.values.push({ number: t.number, attempt: t.attempt, step, metric: 'val_loss', value });
        t.last_step = step; t.last_value = value;
        emit('value', { study: 'live', number: t.number, attempt: t.attempt, step,
                        metric: 'val_loss', value });
        if (step >= 8 || (step >= 3 && r() < 0.15)) {
            t.state = step >= 8 ? 'COMPLETE' : 'PRUNED';
            t.value = t.state === 'COMPLETE' ? value : null;
            t.reason = t.state === 'PRUNED' ? `pruned at step ${step}` : null;
            t.ended = now();
            const a = st.attempts.find((x) => x.number === t.number && x.attempt === t.attempt);
            a.ended = t.ended; a.outcome = t.state; a.reason = t.reason;
            emit('attempt', { study: 'live', number: t.number, attempt: t.attempt,
                              worker: a.worker, started: a.started, ended: a.ended,
                              outcome: a.outcome, reason: a.reason });
        }
        emit('trial', { study: 'live', trial: t });
    }
    emit('study', { study: studyDoc(st) });
}

if (opt('--write')) {
    const dir = opt('--write');
    mkdirSync(dir, { recursive: true });
    const paths = ['/api/studies', '/api/workers'];
    for (const name of S.keys()) {
        const b = '/api/studies/' + encodeURIComponent(name);
        paths.push(b, b + '/trials', b + '/curves', b + '/importance', b + '/timeline');
        if (S.get(name).trials.length) paths.push(b + '/trials/0');
    }
    for (const p of paths) {
        const [path, qs] = p.split('?');
        writeFileSync(join(dir, p.slice(1).replace(/\//g, '_') + '.json'),
                      JSON.stringify(answer(path, new URLSearchParams(qs))));
    }
    console.log(`mock: wrote ${paths.length} answers into ${dir}`);
    process.exit(0);
}

const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(req, res, 405, { error: 'GET only' });
    if (u.pathname === '/' || u.pathname === '/index.html')
        return send(req, res, 200, page(), 'text/html; charset=utf-8');
    if (u.pathname === '/report.html')
        return send(req, res, 200, reportPage(u.searchParams.get('study') || 'reruns'),
                    'text/html; charset=utf-8');
    if (u.pathname === '/api/events') return events(req, res, u.searchParams);
    // --slow-detail MS: the studies list and a study's detail made (and
    // sent) late, so the stream the page opens after them starts past the
    // version of a trial table asked for at the same time.
    if (slowDetail && /^\/api\/studies(\/[^/]+)?$/.test(u.pathname))
        return setTimeout(() => send(req, res, 200, answer(u.pathname, u.searchParams)),
                          slowDetail);
    const a = answer(u.pathname, u.searchParams);
    if (a === null) return send(req, res, 404, { error: 'no such path' });
    if (Array.isArray(a)) return send(req, res, a[0], a[1]);
    // --slow-trials MS: a trial table answered late (as made when asked),
    // so the page's stream opens past its version (dev/smoke.mjs checks
    // that no change is lost in between).
    if (u.pathname.endsWith('/trials') && slowTrials)
        return setTimeout(() => send(req, res, 200, JSON.parse(JSON.stringify(a))),
                          slowTrials);
    send(req, res, 200, a);
});
const slowTrials = Number(opt('--slow-trials', 0));
const slowDetail = Number(opt('--slow-detail', 0));
const interval = setInterval(tick, Number(opt('--tick', 500)));
setInterval(() => { for (const c of clients) c.write(': keep-alive\n\n'); }, 15000);
server.listen(Number(opt('--port', 8765)), '127.0.0.1', () => {
    console.log(`mock: http://127.0.0.1:${server.address().port}/`);
});
process.on('SIGTERM', () => { clearInterval(interval); process.exit(0); });
