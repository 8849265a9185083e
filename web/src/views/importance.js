// #/study/NAME/importance : parameter importance (computed in C by the
// coordinator) with each parameter's rank correlation to the objective.
import * as data from '../data.js';
import { makeChart, whenDrawn } from '../charts.js';
import { h, fmt } from '../util.js';
import { loadStudy, emptyStudy, note } from './common.js';

export default {
    async render(ctx) {
        const b = await loadStudy(ctx);
        let chart = null, drawn = false, doc = null, busy = false, last = 0;
        const el = h('div', { class: 'chart' });
        const info = note('');
        const table = h('div');
        ctx.main.replaceChildren(h('h1', {}, 'Parameter importance'), info, el,
                                 table);
        async function draw() {
            if (emptyStudy(ctx, b)) return;
            doc = await data.importance(b.name);
            if (!ctx.alive) return;
            last = performance.now();
            const ps = doc.params || [];
            const known = ps.filter((p) => p.importance !== null);
            info.textContent = `${doc.method || ''} over ${doc.n_trials} COMPLETE `
                + `trials. Spearman: rank correlation with ${b.info().metric}.`
                + (known.length ? '' : ' Not enough COMPLETE trials (or no '
                   + 'parameter matters) to say.');
            table.replaceChildren(h('table', { class: 'grid',
                                               'data-testid': 'importance' },
                h('thead', {}, h('tr', {}, ['parameter', 'importance', 'spearman']
                    .map((c) => h('th', {}, c)))),
                h('tbody', {}, ps.map((p) => h('tr', {}, h('td', {}, p.name),
                    h('td', {}, p.importance === null ? '-' : fmt(p.importance)),
                    h('td', {}, p.spearman === null ? '-' : fmt(p.spearman)))))));
            el.hidden = known.length === 0;
            if (!known.length) { ctx.ready(); return; }
            const rev = known.slice().reverse();
            if (!chart) chart = makeChart(el, ctx);
            chart.setOption({
                animation: false,
                grid: { left: 140, right: 160, top: 20, bottom: 30 },
                tooltip: { trigger: 'item' },
                xAxis: { type: 'value', max: 1, name: 'importance' },
                yAxis: { type: 'category', data: rev.map((p) => p.name) },
                series: [{ type: 'bar', data: rev.map((p) => p.importance),
                           itemStyle: { color: '#2f7ed8' },
                           label: { show: true, position: 'right',
                                    formatter: (x) => {
                                        const p = rev[x.dataIndex];
                                        return `${fmt(p.importance)}  ρ ${p.spearman === null
                                            ? '-' : fmt(p.spearman)}`;
                                    } } }],
            }, true);
            if (!drawn) { drawn = true; whenDrawn(chart, () => ctx.ready()); }
            else ctx.ready();
        }
        await draw();
        // Importance comes with no event: refetch on trial changes, at most
        // every 10 s (the coordinator computes it per request).
        return { update: () => {
            if (data.mode === 'live' && !busy && performance.now() - last > 10000) {
                busy = true;
                draw().catch((e) => console.warn(e)).finally(() => { busy = false; });
            }
        } };
    },
};
