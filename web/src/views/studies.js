// #/ : every study with its counts and best, and the live workers.
import * as data from '../data.js';
import { h, fmt, fmtTime, studyHref, STATES } from '../util.js';

export function workersTable(workers, now) {
    return h('table', { class: 'grid', 'data-testid': 'workers' },
        h('thead', {}, h('tr', {}, ['worker', 'host', 'slots', 'running',
            'cpus', 'gpus', 'alive', 'last heartbeat']
            .map((c) => h('th', {}, c)))),
        h('tbody', {}, workers.map((w) => h('tr', { class: w.alive ? '' : 'dead' },
            h('td', {}, w.name), h('td', {}, w.host), h('td', {}, fmt(w.slots)),
            h('td', {}, fmt(w.running)), h('td', {}, fmt(w.cpus)),
            h('td', {}, w.gpus ? String(w.gpus.length) : ''),
            h('td', {}, w.alive ? 'yes' : 'no'),
            h('td', {}, w.age !== null && w.age !== undefined
                ? fmt(Math.round(w.age * 10) / 10) + ' s ago'
                : fmtTime(w.last_heartbeat))))));
}

export default {
    async render(ctx) {
        const d = await data.studies();
        const draw = () => {
            const list = [...d.studies.values()]
                .sort((a, b) => (b.created || 0) - (a.created || 0));
            ctx.main.replaceChildren(
                h('h1', {}, 'Studies'),
                list.length === 0 ? null : h('table', { class: 'grid',
                                                        'data-testid': 'studies' },
                    h('thead', {}, h('tr', {}, ['study', 'state', 'objective',
                        'sampler', 'trials', ...STATES, 'best', 'trials/min',
                        'created'].map((c) => h('th', {}, c)))),
                    h('tbody', {}, list.map((s) => h('tr', {},
                        h('td', {}, h('a', { href: studyHref(s.name),
                                             'data-testid': 'study-link' }, s.name)),
                        h('td', {}, s.state),
                        h('td', {}, `${s.direction} ${s.metric}`),
                        h('td', {}, s.sampler + (s.pruner ? ' / ' + s.pruner : '')),
                        h('td', {}, fmt(s.trials) + (s.budget ? ' / ' + s.budget : '')),
                        STATES.map((st) => h('td', { class: 'state-' + st },
                            fmt((s.counts || {})[st] || 0))),
                        h('td', {}, s.best ? h('a', { href: studyHref(s.name,
                            'trial/' + s.best.number) },
                            `${fmt(s.best.value)} (#${s.best.number})`) : ''),
                        h('td', {}, fmt(s.trials_per_minute)),
                        h('td', {}, fmtTime(s.created)))))),
                h('h2', {}, 'Workers'),
                d.workers.length ? workersTable(d.workers, d.now)
                    : h('p', { class: 'note' }, data.mode === 'report'
                        ? 'Workers are not part of a report.'
                        : 'No worker is connected.'));
            if (list.length === 0) ctx.empty('No studies yet.');
            else ctx.ready();
        };
        draw();
        return { update: draw };
    },
};
