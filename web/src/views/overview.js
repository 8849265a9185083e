// #/study/NAME : state counts, best, trials per minute, live workers.
import * as data from '../data.js';
import { h, fmt, fmtTime, studyHref, STATES } from '../util.js';
import { workersTable } from './studies.js';

export default {
    async render(ctx) {
        // The overview needs no trial table (slow to fetch at 100,000
        // trials): counts and best are in the study; the workers running
        // its trials fill in once the table has come.
        const name = ctx.route.study;
        const [det] = await Promise.all([data.detail(name), data.studies()]);
        const b = { det, tr: null };
        data.trials(name).then((tr) => {
            b.tr = tr;
            if (ctx.alive) draw();
        }, (e) => console.warn(e));
        const draw = () => {
            const l = data.studiesNow();
            const s = (l && l.studies.get(name)) || det.study;
            const counts = s.counts || {};
            const running = new Set();
            for (let i = 0; b.tr && i < b.tr.n; i++)
                if (b.tr.state[i] === 'RUNNING' && b.tr.worker[i])
                    running.add(b.tr.worker[i]);
            const all = (data.studiesNow() || { workers: [] }).workers;
            const mine = all.filter((w) => running.has(w.name));
            const tile = (label, value, testid, href) => h('div', {
                class: 'tile', 'data-testid': testid },
                h('div', { class: 'tile-label' }, label),
                h('div', { class: 'tile-value' },
                  href ? h('a', { href }, value) : value));
            ctx.main.replaceChildren(
                h('h1', {}, s.name, ' ', h('span', { class: 'badge' }, s.state)),
                h('p', {}, `${s.direction} ${s.metric} · sampler ${s.sampler}`
                    + (s.pruner ? ` · pruner ${s.pruner}` : '')
                    + ` · created ${fmtTime(s.created)}`
                    + (s.ended ? ` · ended ${fmtTime(s.ended)}` : '')),
                h('div', { class: 'tiles' },
                    tile('trials', fmt(s.trials) + (s.budget ? ' / ' + s.budget : ''),
                         'count-trials'),
                    STATES.map((st) => tile(st, fmt(counts[st] || 0),
                                            'count-' + st)),
                    tile('best', s.best ? `${fmt(s.best.value)} (#${s.best.number})`
                         : '-', 'best',
                         s.best ? studyHref(s.name, 'trial/' + s.best.number) : null),
                    tile('trials/min', fmt(s.trials_per_minute), 'rate'),
                    tile('workers on it', b.tr ? String(running.size) : '…',
                         'live-workers')),
                s.budget ? h('progress', { max: s.budget, value: s.trials,
                                           'data-testid': 'budget' }) : null,
                h('h2', {}, 'Workers running its trials'),
                mine.length ? workersTable(mine, 0)
                    : h('p', { class: 'note' }, running.size
                        ? [...running].join(', ') : 'None right now.'),
                h('h2', {}, 'Search space'),
                h('table', { class: 'grid' },
                    h('thead', {}, h('tr', {}, ['parameter', 'kind', 'range',
                        'log', 'when'].map((c) => h('th', {}, c)))),
                    h('tbody', {}, b.det.space.map((p) => h('tr', {},
                        h('td', {}, p.name), h('td', {}, p.kind),
                        h('td', {}, p.values ? p.values.map(String).join(', ')
                            : `${fmt(p.low)} .. ${fmt(p.high)}`
                              + (p.step ? ` step ${fmt(p.step)}` : '')),
                        h('td', {}, p.log ? 'log' : ''),
                        h('td', {}, p.when ? `${p.when.param} in `
                            + p.when.values.map(String).join(', ') : ''))))),
                b.det.spec ? h('details', {}, h('summary', {}, 'Study file'),
                               h('pre', { class: 'spec' }, b.det.spec)) : null);
            if (!s.trials) ctx.empty(`Study "${s.name}" has no trials yet.`);
            else ctx.ready();
        };
        draw();
        return { update: draw };
    },
};
