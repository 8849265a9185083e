// #/study/NAME/history : each trial's value by number, and the best so far.
import { makeChart, whenDrawn, STATE_COLORS } from '../charts.js';
import { h, fmt, ui, sample, num } from '../util.js';
import { loadStudy, emptyStudy, controls, note, canLog } from './common.js';

const MAX_POINTS = 50000;

export default {
    async render(ctx) {
        const b = await loadStudy(ctx);
        let log = false, chart = null, drawn = false;
        const logBox = h('input', { type: 'checkbox', 'data-testid': 'log-toggle',
            onchange: (e) => { log = e.target.checked; draw(); } });
        const info = note('');
        const el = h('div', { class: 'chart tall' });
        ctx.main.replaceChildren(h('h1', {}, 'Optimization history'),
            controls(h('label', {}, logBox, ' log scale'), info), el);
        function draw() {
            if (emptyStudy(ctx, b)) return;
            const tr = b.tr, maximize = b.info().direction === 'maximize';
            const byState = {};
            const all = [];
            for (let i = 0; i < tr.n; i++) {
                const v = num(tr.value[i]) ?? (tr.state[i] === 'PRUNED'
                    ? num(tr.last_value[i]) : null);
                if (v === null || !ui.states.has(tr.state[i])) continue;
                all.push(i);
                (byState[tr.state[i]] = byState[tr.state[i]] || []).push(i);
            }
            all.sort((x, y) => tr.number[x] - tr.number[y]);
            const yOf = (i) => num(tr.value[i]) ?? num(tr.last_value[i]);
            // Best so far over COMPLETE trials, in number order.
            const best = [];
            let cur = null;
            for (const i of all) {
                if (tr.state[i] !== 'COMPLETE') continue;
                const v = tr.value[i];
                if (cur === null || (maximize ? v > cur : v < cur)) {
                    cur = v;
                    best.push([tr.number[i], v]);
                }
            }
            if (best.length && all.length)
                best.push([tr.number[all[all.length - 1]], cur]);
            const logOk = canLog(all.map(yOf), all.map((_, k) => k));
            logBox.disabled = !logOk;
            if (!logOk && log) { log = false; logBox.checked = false; }
            const shown = sample(all, MAX_POINTS);
            info.textContent = `${all.length} trials with a value`
                + (shown.length < all.length ? `, ${shown.length} drawn (sampled)` : '')
                + (logOk ? '' : '; log scale needs positive values');
            const series = Object.keys(byState).map((st) => ({
                name: st, type: 'scatter', symbolSize: 4, large: true,
                largeThreshold: 5000, progressive: 5000,
                itemStyle: { color: STATE_COLORS[st] },
                data: shown.filter((i) => tr.state[i] === st)
                    .map((i) => [tr.number[i], yOf(i)]),
            }));
            series.push({ name: 'best so far', type: 'line', step: 'end',
                          showSymbol: false, data: best,
                          lineStyle: { color: '#111', width: 2 },
                          itemStyle: { color: '#111' } });
            if (!chart) chart = makeChart(el, ctx);
            chart.setOption({
                animation: false,
                grid: { left: 70, right: 30, top: 40, bottom: 60 },
                legend: { top: 5 },
                tooltip: { trigger: 'item',
                           formatter: (p) => `trial ${p.value[0]}: ${fmt(p.value[1])}` },
                xAxis: { type: 'value', name: 'trial', nameLocation: 'middle',
                         nameGap: 28 },
                yAxis: { type: log ? 'log' : 'value', name: b.info().metric,
                         scale: true },
                dataZoom: [{ type: 'inside' }, { type: 'slider', height: 16,
                                                 bottom: 8 }],
                series,
            }, true);
            chart.off('click');
            chart.on('click', (p) => {
                if (p.seriesName !== 'best so far')
                    location.hash = `#/study/${encodeURIComponent(b.name)}/trial/${p.value[0]}`;
            });
            if (!drawn) { drawn = true; whenDrawn(chart, () => ctx.ready()); }
            else ctx.ready();
        }
        draw();
        return { update: draw, heavy: () => b.tr.n > 20000 };
    },
};
