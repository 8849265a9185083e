// #/study/NAME/slice : the objective against each parameter, one scatter
// per parameter (log x where the space says log), coloured by trial number.
import { makeChart, whenDrawn } from '../charts.js';
import { h, fmt, sample, studyHref } from '../util.js';
import { loadStudy, emptyStudy, note, valued, isCategorical, categories,
         canLog } from './common.js';

const MAX_POINTS = 20000;   // per plot

export default {
    async render(ctx) {
        const b = await loadStudy(ctx);
        const charts = new Map();
        const info = note('');
        const grid = h('div', { class: 'small-multiples' });
        ctx.main.replaceChildren(h('h1', {}, 'Slice plots'), info, grid);
        let drawn = false;

        function draw() {
            if (emptyStudy(ctx, b)) return;
            const t = b.tr;
            const rows = valued(t);
            const shown = sample(rows, MAX_POINTS);
            info.textContent = `${rows.length} trials with a value`
                + (shown.length < rows.length ? `; ${shown.length} drawn per plot (sampled)` : '');
            const names = b.params();
            let maxN = 0;
            for (const i of shown) if (t.number[i] > maxN) maxN = t.number[i];
            const last = [];
            for (const p of names) {
                let c = charts.get(p);
                if (!c) {
                    const el = h('div', { class: 'chart small', 'data-param': p });
                    grid.append(h('div', { class: 'cell' }, h('h3', {}, p), el));
                    c = makeChart(el, ctx);
                    c.on('click', (e) => { location.hash = studyHref(b.name,
                        'trial/' + e.value[2]); });
                    charts.set(p, c);
                }
                const spec = b.spec(p), col = t.params[p] || [];
                const cat = isCategorical(spec, col);
                const pts = shown.filter((i) => col[i] !== null && col[i] !== undefined);
                const log = !cat && spec && spec.log && canLog(col, pts);
                c.setOption({
                    animation: false,
                    grid: { left: 60, right: 15, top: 15, bottom: 40 },
                    tooltip: { trigger: 'item', formatter: (e) =>
                        `trial ${e.value[2]}: ${p} = ${fmt(e.value[0])}, value ${fmt(e.value[1])}` },
                    visualMap: { show: false, dimension: 2, min: 0, max: Math.max(1, maxN),
                                 inRange: { color: ['#c6dbef', '#08306b'] } },
                    xAxis: cat ? { type: 'category', data: categories(spec, col) }
                        : { type: log ? 'log' : 'value', scale: true },
                    yAxis: { type: 'value', scale: true, name: b.info().metric },
                    series: [{ type: 'scatter', symbolSize: 4, large: true,
                               largeThreshold: 5000, progressive: 5000,
                               data: pts.map((i) => [cat ? String(col[i]) : col[i],
                                                     t.value[i], t.number[i]]) }],
                }, true);
                last.push(c);
            }
            if (!names.length) info.textContent += '; the study has no parameters';
            if (!drawn && last.length) {
                drawn = true;
                whenDrawn(last[last.length - 1], () => ctx.ready());
            } else ctx.ready();
        }
        draw();
        return { update: draw, heavy: () => b.tr.n > 20000 };
    },
};
