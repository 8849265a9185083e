// The page: a header (study tabs, the global state filter, live status),
// and one view at a time in <main id="view" data-view data-state>, chosen
// by the hash route (web/README.md lists them and the test contract).
import * as data from './data.js';
import { h, ui, STATES, setStateFilter, studyHref } from './util.js';
import { VIEWS, TABS } from './views/index.js';

// A view's lifetime: its <main>, its state, what to undo when it goes.
class ViewCtx {
    constructor(main, route) {
        this.main = main; this.route = route;
        this.disposers = []; this.alive = true;
    }
    onDispose(fn) { this.disposers.push(fn); }
    dispose() {
        this.alive = false;
        for (const fn of this.disposers.splice(0))
            try { fn(); } catch (e) { console.warn(e); }
    }
    set(state, message) {
        if (!this.alive) return;
        this.main.dataset.state = state;
        const old = this.main.querySelector(':scope > .view-message');
        if (old) old.remove();
        if (message)
            this.main.prepend(h('p', { class: 'view-message ' + state,
                                       'data-testid': 'view-message' }, message));
    }
    ready() { this.set('ready'); }
    empty(message) { this.set('empty', message); }
    error(err) {
        console.warn(err);
        this.set('error', 'Could not load: ' + (err && err.message || err));
    }
}

function parseRoute() {
    const raw = location.hash.replace(/^#/, '') || '/';
    const parts = raw.split('/').filter(Boolean);
    if (parts.length === 0) return { view: 'studies' };
    if (parts[0] !== 'study' || !parts[1]) return { view: 'notfound' };
    let study;
    try { study = decodeURIComponent(parts[1]); }
    catch (e) { return { view: 'notfound' }; }
    const sub = parts[2] || 'overview';
    if (sub === 'trial') {
        const n = Number(parts[3]);
        return Number.isInteger(n) && n >= 0
            ? { view: 'trial', study, number: n } : { view: 'notfound' };
    }
    if (sub === 'overview' || (VIEWS[sub] && sub !== 'studies'))
        return { view: sub, study };
    return { view: 'notfound' };
}

const app = document.getElementById('app');
let current = null;

function header(route) {
    const status = h('span', { class: 'status', id: 'live-status',
                               'data-testid': 'live-status' });
    const showStatus = () => {
        status.textContent = data.store.status;
        status.dataset.status = data.store.status;
    };
    showStatus();
    data.subscribe((c) => { if (c.status) showStatus(); });

    const filters = h('div', { class: 'filters', role: 'group',
                               'aria-label': 'trial states shown' },
        STATES.map((s) => h('label', { class: 'state-' + s },
            h('input', { type: 'checkbox', checked: ui.states.has(s),
                         'data-testid': 'state-' + s,
                         onchange: (e) => setStateFilter(s, e.target.checked) }),
            ' ' + s)));
    const tabs = h('nav', { class: 'tabs' });
    const crumbs = h('span', { class: 'crumbs' });
    const top = h('header', {},
        h('a', { href: '#/', class: 'brand' }, 'hpo'), crumbs, tabs, filters,
        data.mode === 'report'
            ? h('span', { class: 'status', 'data-testid': 'report-badge' },
                'report ' + (data.report.generated
                    ? new Date(data.report.generated * 1000).toISOString()
                          .slice(0, 19).replace('T', ' ') : ''))
            : status);
    return { top, tabs, crumbs };
}

const chrome = header();
app.append(chrome.top);

function drawTabs(route) {
    chrome.tabs.replaceChildren();
    chrome.crumbs.replaceChildren();
    if (!route.study) return;
    chrome.crumbs.append(' / ', h('a', { href: studyHref(route.study) },
                                  route.study));
    for (const t of TABS)
        chrome.tabs.append(h('a', {
            href: studyHref(route.study, t === 'overview' ? '' : t),
            class: route.view === t ? 'active' : null,
            'data-testid': 'tab-' + t }, t));
}

function show() {
    const route = parseRoute();
    if (current) current.dispose();
    const main = h('main', { id: 'view', 'data-view': route.view,
                             'data-state': 'loading' });
    const old = document.getElementById('view');
    if (old) old.replaceWith(main); else app.append(main);
    drawTabs(route);
    const ctx = new ViewCtx(main, route);
    current = ctx;
    const generation = data.store.generation;
    // Changes reach the view at most every 500 ms (2 s for big studies):
    // redrawing 100,000 points per event batch would starve the page.
    let timer = null, lastRun = 0, pending = null;
    const runUpdate = (view) => {
        timer = null;
        lastRun = performance.now();
        const c = pending; pending = null;
        if (ctx.alive && view.update) view.update(c);
    };
    const start = (view) => {
        const unsub = data.subscribe((c) => {
            if (c.reset || data.store.generation !== generation) {
                show();
                return;
            }
            if (c.status) return;
            if (route.study && !c.studies.has(route.study) &&
                route.view !== 'studies' && route.view !== 'overview') return;
            pending = pending || { studies: new Set() };
            for (const s of c.studies) pending.studies.add(s);
            if (timer) return;
            const gap = (view.heavy && view.heavy() ? 2000 : 500);
            timer = setTimeout(() => runUpdate(view),
                               Math.max(0, lastRun + gap - performance.now()));
        });
        const onFilter = () => { if (view.update) view.update({ filter: true }); };
        ui.onFilter.add(onFilter);
        ctx.onDispose(() => { unsub(); ui.onFilter.delete(onFilter);
                              clearTimeout(timer); });
    };
    const mod = VIEWS[route.view] || VIEWS.notfound;
    Promise.resolve()
        .then(() => mod.render(ctx))
        .then((view) => { if (ctx.alive) start(view || {}); })
        .catch((err) => { if (ctx.alive) ctx.error(err); })
        // The stream opens once the first view has its answers: from the
        // oldest of them (data.follow).
        .finally(() => { if (data.mode === 'live') data.follow(); });
}

window.addEventListener('hashchange', show);
show();
