// #/study/NAME/timeline : a gantt of attempts, one row per worker, each
// bar an attempt coloured by outcome. LOST attempts (lease expired, worker
// gone) are outlined in black and marked with a cross; a dashed line links
// an attempt to its trial's re-run. Click a bar for the trial's detail.
import * as data from '../data.js';
import { echarts, makeChart, whenDrawn, STATE_COLORS } from '../charts.js';
import { h, fmt, fmtTime, fmtDuration, ui, studyHref, sample } from '../util.js';
import { loadStudy, emptyStudy, note } from './common.js';

const MAX_BARS = 10000;
const MAX_LINKS = 3000;

export default {
    async render(ctx) {
        const b = await loadStudy(ctx);
        const tl = await data.timeline(b.name);
        let chart = null, drawn = false;
        const info = note('');
        const legend = h('div', { class: 'legend' }, Object.entries(STATE_COLORS)
            .map(([k, c]) => h('span', {}, h('i', { style: `background:${c}` }), k)));
        const el = h('div', { class: 'chart tall' });
        ctx.main.replaceChildren(h('h1', {}, 'Worker timeline'),
            h('div', { class: 'controls' }, legend, info), el);

        function draw() {
            if (emptyStudy(ctx, b)) return;
            const t = b.tr;
            const now = Date.now() / 1000;
            const all = [];
            for (let i = 0; i < tl.n; i++) {
                const r = t.row(tl.number[i]);
                if (r >= 0 && !ui.states.has(t.state[r])) continue;
                if (tl.started[i] === null) continue;
                all.push(i);
            }
            const shown = sample(all, MAX_BARS);
            const workers = [...new Set(shown.map((i) => tl.worker[i] || '?'))]
                .sort((x, y) => x.localeCompare(y, undefined, { numeric: true }));
            const wix = new Map(workers.map((w, k) => [w, k]));
            const bars = shown.map((i) => ({
                value: [wix.get(tl.worker[i] || '?'), tl.started[i] * 1000,
                        (tl.ended[i] ?? now) * 1000, tl.number[i], tl.attempt[i]],
                outcome: tl.outcome[i], reason: tl.reason[i],
            }));
            // Re-runs: attempt k's bar to attempt k+1's, per trial.
            const byTrial = new Map();
            for (const i of shown) {
                const a = byTrial.get(tl.number[i]) || [];
                a.push(i); byTrial.set(tl.number[i], a);
            }
            const links = [];
            for (const a of byTrial.values()) {
                if (a.length < 2 || links.length >= MAX_LINKS) continue;
                a.sort((x, y) => tl.attempt[x] - tl.attempt[y]);
                for (let k = 1; k < a.length; k++) {
                    const p = a[k - 1], q = a[k];
                    links.push([wix.get(tl.worker[p] || '?'), (tl.ended[p] ?? now) * 1000,
                                wix.get(tl.worker[q] || '?'), tl.started[q] * 1000,
                                tl.number[q]]);
                }
            }
            const lost = all.filter((i) => tl.outcome[i] === 'LOST').length;
            info.textContent = `${all.length} attempts on ${workers.length} workers, `
                + `${lost} lost, ${byTrial.size ? [...byTrial.values()]
                    .filter((a) => a.length > 1).length : 0} trials re-run`
                + (shown.length < all.length ? `; ${shown.length} bars drawn (sampled)` : '');
            if (!chart) {
                chart = makeChart(el, ctx);
                chart.on('click', (p) => {
                    const n = p.seriesIndex === 0 ? p.value[3] : p.value[4];
                    location.hash = studyHref(b.name, 'trial/' + n);
                });
            }
            chart.setOption({
                animation: false,
                grid: { left: 110, right: 30, top: 20, bottom: 60 },
                tooltip: { trigger: 'item', formatter: (p) => {
                    if (p.seriesIndex !== 0) return `trial ${p.value[4]} re-run`;
                    const [, s, e, n, a] = p.value;
                    return `trial ${n}, attempt ${a}: ${p.data.outcome}<br>`
                        + `${fmtTime(s / 1000)}, ${fmtDuration((e - s) / 1000)}`
                        + (p.data.reason ? `<br>${p.data.reason}` : '');
                } },
                xAxis: { type: 'time', scale: true },
                yAxis: { type: 'category', data: workers, inverse: true },
                dataZoom: [{ type: 'inside', filterMode: 'weakFilter' },
                           { type: 'slider', filterMode: 'weakFilter', height: 16,
                             bottom: 8 }],
                series: [{
                    type: 'custom', name: 'attempts', progressive: 3000,
                    encode: { x: [1, 2], y: 0 },
                    renderItem: (params, api) => {
                        const y = api.value(0);
                        const s = api.coord([api.value(1), y]);
                        const e = api.coord([api.value(2), y]);
                        const ht = api.size([0, 1])[1] * 0.6;
                        const cs = params.coordSys;
                        const rect = echarts.graphic.clipRectByRect(
                            { x: s[0], y: s[1] - ht / 2,
                              width: Math.max(2, e[0] - s[0]), height: ht },
                            { x: cs.x, y: cs.y, width: cs.width, height: cs.height });
                        if (!rect) return null;
                        const o = bars[params.dataIndex].outcome;
                        const isLost = o === 'LOST';
                        const kids = [{ type: 'rect', shape: rect, style: {
                            fill: STATE_COLORS[o] || '#bbb',
                            stroke: isLost ? '#000' : null, lineWidth: isLost ? 1 : 0 } }];
                        if (isLost && rect.width > 6)
                            kids.push({ type: 'text', style: { text: '\u00d7',
                                x: rect.x + rect.width - 7, y: rect.y,
                                fill: '#fff', font: 'bold 11px sans-serif' } });
                        return { type: 'group', children: kids };
                    },
                    data: bars,
                }, {
                    type: 'custom', name: 're-runs', silent: false,
                    encode: { x: [1, 3], y: [0, 2] },
                    renderItem: (params, api) => {
                        const a = api.coord([api.value(1), api.value(0)]);
                        const c = api.coord([api.value(3), api.value(2)]);
                        return { type: 'line', shape: { x1: a[0], y1: a[1],
                                                        x2: c[0], y2: c[1] },
                                 style: { stroke: '#555', lineDash: [4, 3],
                                          lineWidth: 1 } };
                    },
                    data: links,
                }],
            }, true);
            if (!drawn) { drawn = true; whenDrawn(chart, () => ctx.ready()); }
            else ctx.ready();
        }
        draw();
        return { update: draw, heavy: () => tl.n > 20000 };
    },
};
