// #/study/NAME/contour : two parameters chosen by selects, each trial a
// point coloured by its objective value (best blue).
import { makeChart, whenDrawn } from '../charts.js';
import { h, fmt, sample, studyHref } from '../util.js';
import { loadStudy, emptyStudy, controls, note, valued, isCategorical,
         categories, canLog } from './common.js';

const MAX_POINTS = 30000;

export default {
    async render(ctx) {
        const b = await loadStudy(ctx);
        const names = b.params();
        let px = names[0], py = names[1] || names[0];
        let chart = null, drawn = false;
        const select = (testid, get, set) => h('select', { 'data-testid': testid,
            onchange: (e) => { set(e.target.value); draw(); } },
            names.map((n) => h('option', { value: n, selected: n === get() }, n)));
        const info = note('');
        const el = h('div', { class: 'chart tall' });
        ctx.main.replaceChildren(h('h1', {}, 'Contour'),
            controls(h('label', {}, 'x ', select('contour-x', () => px, (v) => { px = v; })),
                     h('label', {}, 'y ', select('contour-y', () => py, (v) => { py = v; })),
                     info), el);

        const axis = (p, rows) => {
            const spec = b.spec(p), col = b.tr.params[p] || [];
            if (isCategorical(spec, col))
                return { type: 'category', data: categories(spec, col), name: p, cat: true };
            return { type: spec && spec.log && canLog(col, rows) ? 'log' : 'value',
                     scale: true, name: p };
        };

        function draw() {
            if (emptyStudy(ctx, b)) return;
            if (!names.length) { info.textContent = 'The study has no parameters.';
                                 ctx.ready(); return; }
            const t = b.tr, cx = t.params[px] || [], cy = t.params[py] || [];
            const rows = valued(t).filter((i) => cx[i] !== null && cx[i] !== undefined
                && cy[i] !== null && cy[i] !== undefined);
            const shown = sample(rows, MAX_POINTS);
            info.textContent = `${rows.length} trials with both parameters and a value`
                + (shown.length < rows.length ? `; ${shown.length} drawn (sampled)` : '');
            const ax = axis(px, rows), ay = axis(py, rows);
            let lo = 0, hi = 1;
            if (rows.length) {
                lo = hi = t.value[rows[0]];
                for (const i of rows) { const v = t.value[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
            }
            const maximize = b.info().direction === 'maximize';
            if (!chart) {
                chart = makeChart(el, ctx);
                chart.on('click', (e) => { location.hash = studyHref(b.name,
                    'trial/' + e.value[3]); });
            }
            const val = (a, v) => a.cat ? String(v) : v;
            chart.setOption({
                animation: false,
                grid: { left: 80, right: 120, top: 30, bottom: 50 },
                tooltip: { trigger: 'item', formatter: (e) => `trial ${e.value[3]}: `
                    + `${px} ${fmt(e.value[0])}, ${py} ${fmt(e.value[1])}, value ${fmt(e.value[2])}` },
                xAxis: { ...ax, nameLocation: 'middle', nameGap: 28, cat: undefined },
                yAxis: { ...ay, cat: undefined },
                visualMap: { type: 'continuous', dimension: 2, min: lo, max: hi,
                             right: 10, top: 'middle', calculable: true,
                             formatter: (v) => fmt(v),
                             inRange: { color: maximize
                                 ? ['#d73027', '#fee090', '#4575b4']
                                 : ['#4575b4', '#fee090', '#d73027'] } },
                series: [{ type: 'scatter', symbolSize: 7, large: true,
                           largeThreshold: 5000, progressive: 5000,
                           data: shown.map((i) => [val(ax, cx[i]), val(ay, cy[i]),
                                                   t.value[i], t.number[i]]) }],
            }, true);
            if (!drawn) { drawn = true; whenDrawn(chart, () => ctx.ready()); }
            else ctx.ready();
        }
        draw();
        return { update: draw, heavy: () => b.tr.n > 20000 };
    },
};
