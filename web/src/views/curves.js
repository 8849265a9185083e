// #/study/NAME/curves : intermediate values by step, one line per trial
// (its latest attempt), the best K trials of those the state filter shows,
// plus every RUNNING one (up to 50), extended live by value events.
import * as data from '../data.js';
import { makeChart, whenDrawn, STATE_COLORS } from '../charts.js';
import { h, fmt, ui, num, studyHref } from '../util.js';
import { loadStudy, emptyStudy, controls, note, canLog } from './common.js';

export default {
    async render(ctx) {
        const b = await loadStudy(ctx);
        let metric = b.info().metric, k = 20, log = false;
        let cv = await data.curves(b.name, metric);
        let chart = null, drawn = false;
        const pick = h('select', { 'data-testid': 'curves-metric',
            onchange: async (e) => {
                metric = e.target.value;
                cv = await data.curves(b.name, metric);
                if (ctx.alive) draw();
            } });
        const kIn = h('input', { type: 'number', min: 1, max: 1000, value: k,
            class: 'small', 'data-testid': 'curves-topk', onchange: (e) => {
                const v = Number(e.target.value);
                k = v >= 1 ? Math.min(1000, Math.floor(v)) : 20;
                draw();
            } });
        const logBox = h('input', { type: 'checkbox', 'data-testid': 'log-toggle',
            onchange: (e) => { log = e.target.checked; draw(); } });
        const info = note('');
        const el = h('div', { class: 'chart tall' });
        ctx.main.replaceChildren(h('h1', {}, 'Learning curves'),
            controls(h('label', {}, 'metric ', pick),
                     h('label', {}, 'top ', kIn, ' trials'),
                     h('label', {}, logBox, ' log scale'), info), el);

        function draw() {
            const metrics = b.det.metrics.length ? b.det.metrics : [metric];
            if (!metrics.includes(metric)) metrics.push(metric);
            pick.replaceChildren(...metrics.map((m) => h('option', {
                value: m, selected: m === metric }, m)));
            if (emptyStudy(ctx, b)) return;
            const t = b.tr, cmp = b.cmp();
            const score = (i) => num(t.value[i]) ?? num(t.last_value[i]);
            const ranked = [], running = [];
            for (const [n, c] of cv.byTrial) {
                const i = t.row(n);
                if (i < 0 || !c.step.length || !ui.states.has(t.state[i])) continue;
                if (t.state[i] === 'RUNNING') running.push(i);
                else if (score(i) !== null) ranked.push(i);
            }
            ranked.sort((x, y) => cmp(score(x), score(y)));
            const chosen = [...ranked.slice(0, k), ...running.slice(0, 50)];
            const ys = [];
            for (const i of chosen) for (const v of cv.byTrial.get(t.number[i]).value) ys.push(v);
            const logOk = canLog(ys, ys.map((_, j) => j));
            logBox.disabled = !logOk;
            if (!logOk) { log = false; logBox.checked = false; }
            info.textContent = `${cv.byTrial.size} trials reported ${metric}; `
                + `showing the best ${Math.min(k, ranked.length)}`
                + (running.length ? ` and ${Math.min(50, running.length)} running` : '');
            if (!chart) {
                chart = makeChart(el, ctx);
                chart.on('click', (p) => {
                    location.hash = studyHref(b.name, 'trial/' + p.seriesName.slice(1));
                });
            }
            chart.setOption({
                animation: false,
                grid: { left: 70, right: 30, top: 30, bottom: 50 },
                tooltip: { trigger: 'item', formatter: (p) =>
                    `trial ${p.seriesName.slice(1)} step ${p.value[0]}: ${fmt(p.value[1])}` },
                xAxis: { type: 'value', name: 'step', nameLocation: 'middle',
                         nameGap: 28 },
                yAxis: { type: log ? 'log' : 'value', name: metric, scale: true },
                dataZoom: [{ type: 'inside' }],
                series: chosen.map((i) => {
                    const c = cv.byTrial.get(t.number[i]);
                    return { name: '#' + t.number[i], type: 'line', showSymbol: false,
                             symbolSize: 3, emphasis: { focus: 'series' },
                             lineStyle: { width: t.state[i] === 'RUNNING' ? 2 : 1 },
                             itemStyle: { color: STATE_COLORS[t.state[i]] },
                             data: c.step.map((s, j) => [s, c.value[j]]) };
                }),
            }, true);
            if (!chosen.length) {
                ctx.ready();
                info.textContent += ' (no curve for the states shown)';
                return;
            }
            if (!drawn) { drawn = true; whenDrawn(chart, () => ctx.ready()); }
            else ctx.ready();
        }
        draw();
        return { update: draw };
    },
};
