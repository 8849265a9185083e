// #/study/NAME/parallel : parallel coordinates of the parameters and the
// objective. Brush on an axis to select (the selection is computed over
// every shown trial, not only the drawn sample), reorder axes with the
// arrows, log and flip per axis, colour by objective, keep the top k%.
import { makeChart, whenDrawn } from '../charts.js';
import { h, fmt, ui, sample, num, studyHref } from '../util.js';
import { loadStudy, emptyStudy, controls, note, valued, isCategorical,
         categories, canLog } from './common.js';

const MAX_LINES = 10000;    // drawn; brushing and top-k see every trial
const OBJ = '\u0000objective';

export default {
    async render(ctx) {
        const b = await loadStudy(ctx);
        let order = null;
        const logs = new Set(), flips = new Set(), defaulted = new Set();
        let topk = 100, chart = null, drawn = false;
        let rows = [], axes = [], selected = null, drawnRows = [];

        const topkIn = h('input', { type: 'number', min: 1, max: 100, value: 100,
            step: 1, 'data-testid': 'topk', class: 'small',
            onchange: (e) => {
                const v = Number(e.target.value);
                topk = v >= 1 && v <= 100 ? v : 100;
                draw();
            } });
        const info = note('');
        const axisList = h('ol', { class: 'axis-list', 'data-testid': 'axis-list' });
        const el = h('div', { class: 'chart tall' });
        const picked = h('div', { class: 'picked', 'data-testid': 'brushed' });
        ctx.main.replaceChildren(h('h1', {}, 'Parallel coordinates'),
            controls(h('label', {}, 'top ', topkIn, ' %'), info),
            h('div', { class: 'side-by-side' }, h('div', { class: 'grow' }, el),
              h('div', { class: 'axes-panel' }, h('h3', {}, 'Axes'), axisList)),
            picked);

        const nameOf = (d) => d === OBJ ? b.info().metric + ' (objective)' : d;
        const colOf = (d) => d === OBJ ? b.tr.value : b.tr.params[d] || [];

        function drawAxisList() {
            axisList.replaceChildren(...order.map((d, k) => {
                const a = axes.find((x) => x.dim === d);
                return h('li', { 'data-axis': nameOf(d) },
                    h('span', { class: 'axis-name' }, nameOf(d)),
                    h('button', { title: 'move up', disabled: k === 0,
                                  'data-testid': 'axis-up-' + nameOf(d),
                                  onclick: () => move(k, -1) }, '\u2191'),
                    h('button', { title: 'move down', disabled: k === order.length - 1,
                                  'data-testid': 'axis-down-' + nameOf(d),
                                  onclick: () => move(k, 1) }, '\u2193'),
                    a && !a.categorical ? h('label', {}, h('input', {
                        type: 'checkbox', checked: logs.has(d), disabled: !a.logOk,
                        'data-testid': 'axis-log-' + nameOf(d),
                        onchange: (e) => { toggle(logs, d, e.target.checked); } }),
                        'log') : null,
                    h('label', {}, h('input', { type: 'checkbox', checked: flips.has(d),
                        'data-testid': 'axis-flip-' + nameOf(d),
                        onchange: (e) => { toggle(flips, d, e.target.checked); } }),
                        'flip'));
            }));
        }
        function move(k, by) {
            const [d] = order.splice(k, 1);
            order.splice(k + by, 0, d);
            draw();
        }
        function toggle(set, d, on) {
            if (on) set.add(d); else set.delete(d);
            draw();
        }

        // The brushed trials: every shown row inside every axis's intervals.
        function computeSelection() {
            if (!chart) return;
            const model = chart.getModel();
            const active = [];
            axes.forEach((a, k) => {
                const m = model.getComponent('parallelAxis', k);
                const iv = m && m.activeIntervals;
                if (iv && iv.length) active.push([a, iv]);
            });
            if (!active.length) { selected = null; showPicked(); return; }
            const inside = (a, iv, i) => {
                let v = a.col[i];
                if (v === null) return false;
                if (a.categorical) v = a.cats.indexOf(String(v));
                return iv.some(([lo, hi]) => v >= lo && v <= hi);
            };
            selected = rows.filter((i) => active.every(([a, iv]) => inside(a, iv, i)));
            showPicked();
        }
        function showPicked() {
            const tr = b.tr;
            if (!selected) {
                picked.replaceChildren(note('Brush along an axis to select trials.'));
                ui.selection.delete(b.name);
                return;
            }
            const nums = selected.map((i) => tr.number[i]);
            ui.selection.set(b.name, new Set(nums));
            const cmp = b.cmp();
            const top = selected.slice().sort((x, y) => cmp(tr.value[x], tr.value[y]))
                .slice(0, 100);
            picked.replaceChildren(
                h('p', {}, `${selected.length} trials brushed `,
                  h('a', { href: studyHref(b.name, 'trials'),
                           'data-testid': 'brushed-to-table' },
                    'show them in the trial table')),
                h('table', { class: 'grid' },
                    h('thead', {}, h('tr', {}, ['trial', 'value',
                        ...order.filter((d) => d !== OBJ)].map((c) => h('th', {}, c)))),
                    h('tbody', {}, top.map((i) => h('tr', { class: 'link',
                        onclick: () => { location.hash = studyHref(b.name,
                            'trial/' + tr.number[i]); } },
                        h('td', {}, String(tr.number[i])),
                        h('td', {}, fmt(tr.value[i])),
                        order.filter((d) => d !== OBJ).map((d) =>
                            h('td', {}, fmt(colOf(d)[i]))))))));
        }

        function draw() {
            if (emptyStudy(ctx, b)) return;
            const tr = b.tr;
            const names = b.params();
            if (!order) order = [...names, OBJ];
            for (const p of names)
                if (!order.includes(p)) order.splice(order.indexOf(OBJ), 0, p);
            rows = valued(tr);
            const cmp = b.cmp();
            if (topk < 100) {
                rows.sort((x, y) => cmp(tr.value[x], tr.value[y]));
                rows = rows.slice(0, Math.max(1, Math.ceil(rows.length * topk / 100)));
            }
            axes = order.map((d) => {
                const col = colOf(d);
                const spec = d === OBJ ? null : b.spec(d);
                const categorical = d !== OBJ && isCategorical(spec, col);
                const logOk = !categorical && canLog(col, rows);
                if (spec && spec.log && !defaulted.has(d)) logs.add(d);
                defaulted.add(d);   // log by default where the space says so
                return { dim: d, col, categorical, logOk,
                         cats: categorical ? categories(spec, col) : null };
            });
            drawAxisList();
            const best = rows.slice().sort((x, y) => cmp(tr.value[x], tr.value[y]))
                .slice(0, 500);
            const shown = sample(rows, MAX_LINES, best);
            drawnRows = shown;
            info.textContent = `${rows.length} trials with a value`
                + (shown.length < rows.length
                    ? `; ${shown.length} lines drawn (evenly sampled, best 500 kept)` : '');
            const vals = rows.map((i) => tr.value[i]);
            let lo = vals.length ? vals[0] : 0, hi = lo;
            for (const v of vals) { if (v < lo) lo = v; if (v > hi) hi = v; }
            const maximize = b.info().direction === 'maximize';
            const objK = order.indexOf(OBJ);
            if (!chart) {
                chart = makeChart(el, ctx);
                chart.on('axisareaselected', computeSelection);
                chart.on('click', (p) => {
                    const i = drawnRows[p.dataIndex];
                    if (i !== undefined)
                        location.hash = studyHref(b.name, 'trial/' + b.tr.number[i]);
                });
            }
            chart.setOption({
                animation: false,
                parallel: { left: 60, right: 150, top: 50, bottom: 40,
                            parallelAxisDefault: { nameLocation: 'end', nameGap: 18,
                                nameTextStyle: { fontSize: 12 },
                                areaSelectStyle: { width: 18 } } },
                parallelAxis: axes.map((a, k) => ({
                    dim: k, name: nameOf(a.dim),
                    type: a.categorical ? 'category'
                        : logs.has(a.dim) && a.logOk ? 'log' : 'value',
                    data: a.cats || undefined, scale: true,
                    inverse: flips.has(a.dim),
                })),
                visualMap: rows.length ? {
                    type: 'continuous', dimension: objK, min: lo, max: hi,
                    right: 10, top: 'middle', calculable: true,
                    formatter: (v) => fmt(v),
                    text: [maximize ? 'best' : 'worst', maximize ? 'worst' : 'best'],
                    inRange: { color: maximize
                        ? ['#d73027', '#fee090', '#4575b4']
                        : ['#4575b4', '#fee090', '#d73027'] },
                } : undefined,
                tooltip: { show: false },
                series: [{
                    type: 'parallel', smooth: false,
                    lineStyle: { width: 1, opacity: shown.length > 2000 ? 0.25 : 0.6 },
                    inactiveOpacity: 0.03, activeOpacity: 0.9,
                    progressive: 500, progressiveThreshold: 3000,
                    data: shown.map((i) => axes.map((a) => {
                        const v = a.col[i];
                        if (v === null || v === undefined) return '-';
                        return a.categorical ? String(v) : v;
                    })),
                }],
            }, true);
            selected = null;
            showPicked();
            if (!drawn) { drawn = true; whenDrawn(chart, () => ctx.ready()); }
            else ctx.ready();
        }
        draw();
        // A live change redraws, which clears a brush: wait while one is on.
        return { update: (c) => { if (!selected || (c && c.filter)) draw(); },
                 heavy: () => b.tr.n > 20000 };
    },
};
