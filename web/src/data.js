// The data layer: where answers come from (live: the coordinator's HTTP API
// and its event stream; report: the document hpo report embedded in the
// page) and the in-memory tables the views draw from, kept current by
// applying events as idempotent upserts, batched per animation frame.
import { Trials, Curves, Timeline } from './tables.js';

const dataEl = document.getElementById('hpo-data');
export const report = dataEl ? JSON.parse(dataEl.textContent) : null;
export const mode = report ? 'report' : 'live';

export class FetchError extends Error {
    constructor(status, message) { super(message); this.status = status; }
}

export function studyPath(name) {
    return '/api/studies/' + encodeURIComponent(name);
}

// The report's answer for path: exact, or for curves without a metric
// the first curves answer of that study.
function fromReport(path) {
    const api = report.api || {};
    if (Object.prototype.hasOwnProperty.call(api, path)) return api[path];
    const q = path.indexOf('?');
    const base = q < 0 ? path : path.slice(0, q);
    if (base.endsWith('/curves')) {
        const want = new URLSearchParams(q < 0 ? '' : path.slice(q + 1))
            .get('metric');
        for (const k of Object.keys(api)) {
            const kq = k.indexOf('?');
            if ((kq < 0 ? k : k.slice(0, kq)) !== base) continue;
            const m = new URLSearchParams(kq < 0 ? '' : k.slice(kq + 1))
                .get('metric');
            if (want === null || m === want || api[k].metric === want)
                return api[k];
        }
    }
    if (Object.prototype.hasOwnProperty.call(api, base)) return api[base];
    throw new FetchError(404, 'not in this report');
}

export async function getJSON(path) {
    if (report) return fromReport(path);
    // The head's preload script may have started this one already.
    const pre = window.__hpoPrefetch || {};
    const started = pre[path];
    delete pre[path];
    const r = await (started || fetch(path, { credentials: 'same-origin',
        headers: { Accept: 'application/json' } }));
    if (!r.ok) {
        let msg = r.statusText;
        try { msg = (await r.json()).error || msg; } catch (e) { /* text */ }
        throw new FetchError(r.status, msg);
    }
    return r.json();
}

// ---- the store ----------------------------------------------------------

// A resource is one fetched answer kept current by events: the studies
// list, or one study's detail, trials, curves of a metric, timeline, or a
// trial. Events for a resource still loading wait in its queue and are
// applied after, when newer than the answer's version.
class Resource {
    constructor(key, study, path, make, apply) {
        Object.assign(this, { key, study, path, make, apply });
        this.data = null; this.pending = []; this.promise = null;
        this.error = null;
    }
    load() {
        if (!this.promise) {
            this.promise = getJSON(this.path).then((doc) => {
                this.data = this.make(doc);
                const v = doc.version || 0;
                noteVersion(v);
                for (const [id, type, ev] of this.pending)
                    if (id > v) this.apply(this.data, type, ev);
                this.pending = null;
                return this.data;
            }, (err) => { this.error = err; this.pending = null; throw err; });
        }
        return this.promise;
    }
    event(id, type, ev) {
        if (this.data) this.apply(this.data, type, ev);
        else if (this.pending) this.pending.push([id, type, ev]);
    }
}

export const store = {
    resources: new Map(),
    minLoaded: Infinity,        // the oldest answer before the stream
    streamFrom: null,           // the since the stream was opened with
    listeners: new Set(),
    generation: 0,
    lastId: 0,
    status: report ? 'report' : 'connecting',
};

function getResource(key, study, path, make, apply) {
    let r = store.resources.get(key);
    if (!r) {
        r = new Resource(key, study, path, make, apply);
        store.resources.set(key, r);
    }
    return r;
}

// The studies list, with the workers: {version, now, studies: Map, workers}.
function makeStudies(doc) {
    const studies = new Map();
    for (const s of doc.studies || []) studies.set(s.name, s);
    return { version: doc.version || 0, now: doc.now, studies,
             workers: doc.workers || [] };
}
function applyStudies(d, type, ev) {
    if (type === 'study') d.studies.set(ev.study.name, ev.study);
    else if (type === 'study_deleted') d.studies.delete(ev.name);
    else if (type === 'workers') { d.workers = ev.workers || []; d.now = ev.now; }
}
export function studies() {
    return getResource('studies', null, '/api/studies', makeStudies,
                       applyStudies).load();
}
export function studiesNow() {
    const r = store.resources.get('studies');
    return r && r.data;
}

function makeDetail(doc) {
    return { study: doc.study, spec: doc.spec, space: doc.space || [],
             metrics: doc.metrics || [] };
}
function applyDetail(d, type, ev) {
    if (type === 'study') d.study = ev.study;
    else if (type === 'value' && ev.metric && !d.metrics.includes(ev.metric))
        d.metrics.push(ev.metric);
}
export function detail(name) {
    return getResource('detail:' + name, name, studyPath(name), makeDetail,
                       applyDetail).load();
}

function applyTrials(t, type, ev) {
    if (type === 'trial') t.upsert(ev.trial);
}
export function trials(name) {
    return getResource('trials:' + name, name, studyPath(name) + '/trials',
                       (doc) => new Trials(doc), applyTrials).load();
}

function applyCurves(c, type, ev) {
    if (type === 'value' && ev.metric === c.metric) c.add(ev);
    else if (type === 'trial') c.attemptIs(ev.trial.number, ev.trial.attempt);
}
export function curves(name, metric) {
    const q = metric ? '?metric=' + encodeURIComponent(metric) : '';
    return getResource('curves:' + name + ':' + (metric || ''), name,
                       studyPath(name) + '/curves' + q,
                       (doc) => new Curves(doc), applyCurves).load();
}

function applyTimeline(tl, type, ev) {
    if (type === 'attempt') tl.upsert(ev);
    else if (type === 'trial' && ev.trial.state === 'RUNNING' &&
             ev.trial.attempt)
        tl.running(ev.trial);
}
export function timeline(name) {
    return getResource('timeline:' + name, name,
                       studyPath(name) + '/timeline',
                       (doc) => new Timeline(doc), applyTimeline).load();
}

// Importance is recomputed by the coordinator: no event carries it, so
// the view refetches it (live) when trials of the study change.
export function importance(name) {
    return getJSON(studyPath(name) + '/importance');
}

function applyTrial(d, type, ev) {
    if (ev.number !== undefined && ev.number !== d.trial.number) return;
    if (type === 'trial') {
        if (ev.trial.number === d.trial.number) d.trial = ev.trial;
    } else if (type === 'attempt') {
        const i = d.attempts.findIndex((a) => a.attempt === ev.attempt);
        const a = { log_tail: null, ...(i >= 0 ? d.attempts[i] : {}), ...ev };
        if (i >= 0) d.attempts[i] = a; else d.attempts.push(a);
    } else if (type === 'value') {
        const i = d.values.findIndex((v) => v.attempt === ev.attempt &&
            v.step === ev.step && v.metric === ev.metric);
        const v = { attempt: ev.attempt, step: ev.step, metric: ev.metric,
                    value: ev.value };
        if (i >= 0) d.values[i] = v; else d.values.push(v);
    }
}
export function trial(name, number) {
    return getResource('trial:' + name + ':' + number, name,
                       studyPath(name) + '/trials/' + number,
                       (doc) => ({ trial: doc.trial, attempts: doc.attempts || [],
                                   values: doc.values || [] }),
                       applyTrial).load();
}

// Forget what a study's views loaded (the trial detail refetches each
// visit: a coordinator's log tails are not in events).
export function forget(prefix) {
    for (const k of [...store.resources.keys()])
        if (k.startsWith(prefix)) store.resources.delete(k);
}

export function subscribe(fn) {
    store.listeners.add(fn);
    return () => store.listeners.delete(fn);
}

// ---- events ---------------------------------------------------------------

const TYPES = ['study', 'study_deleted', 'trial', 'attempt', 'value',
               'workers', 'reset'];
let queue = [];
let scheduled = false;

function flush() {
    if (!scheduled) return;
    scheduled = false;
    const batch = queue;
    queue = [];
    const touched = new Set();
    let reset = false;
    for (const [id, type, ev] of batch) {
        if (type === 'reset') { reset = true; continue; }
        const name = type === 'study' ? ev.study.name
            : type === 'study_deleted' ? ev.name : ev.study;
        if (name) touched.add(name);
        for (const r of store.resources.values())
            if (r.study === null || r.study === name) r.event(id, type, ev);
        if (type === 'study_deleted') forget('trials:' + name);
    }
    if (reset) {
        store.resources.clear();
        store.generation++;
    }
    for (const fn of store.listeners) fn({ studies: touched, reset });
}

function enqueue(id, type, ev) {
    queue.push([id, type, ev]);
    if (scheduled) return;
    scheduled = true;
    // Hidden tabs get no animation frames: the timer still applies events.
    requestAnimationFrame(flush);
    setTimeout(flush, 500);
}

let source = null;
let retry = null;

// Answers fetched at the same time come with different versions; the
// stream must start at the oldest, or the changes between it and the
// others would be missed (replayed ones are harmless: upserts, in order).
// An answer older than where the stream started (one fetched before it
// opened, which came in after) reopens it from that answer's version.
function noteVersion(v) {
    if (report) return;
    if (!source) {
        if (v < store.minLoaded) store.minLoaded = v;
    } else if (store.streamFrom !== null && v < store.streamFrom) {
        source.close();
        source = null;
        follow(v);
    }
}

function setStatus(s) {
    store.status = s;
    for (const fn of store.listeners) fn({ studies: new Set(), status: s });
}

// Follow /api/events from since (default: the oldest answer so far).
// EventSource resumes by itself (Last-Event-ID); when it gives up, reopen
// from the last id.
export function follow(since) {
    if (report || source) return;
    clearTimeout(retry);
    if (since === undefined)
        since = store.lastId ? store.lastId
            : isFinite(store.minLoaded) ? store.minLoaded : null;
    store.streamFrom = since;
    const es = new EventSource('/api/events'
                               + (since !== null ? '?since=' + since : ''));
    source = es;
    es.onopen = () => { if (es === source) setStatus('live'); };
    es.onerror = () => {
        if (es !== source) return;
        if (es.readyState === EventSource.CLOSED) {
            es.close();
            source = null;
            setStatus('disconnected');
            clearTimeout(retry);
            retry = setTimeout(() => follow(), 3000);
        } else {
            setStatus('reconnecting');
        }
    };
    for (const type of TYPES) {
        es.addEventListener(type, (e) => {
            if (es !== source) return;
            const id = Number(e.lastEventId) || 0;
            if (id > store.lastId) store.lastId = id;
            let ev;
            try { ev = JSON.parse(e.data); } catch (err) { return; }
            enqueue(id, type, ev);
        });
    }
}

// For tests and the mock: apply one event as if it had come in.
export function inject(id, type, ev) { enqueue(id, type, ev); }
