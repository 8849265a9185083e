// #/study/NAME/trial/N : parameters, reported values, attempts with their
// reasons and log tails.
import * as data from '../data.js';
import { makeChart, whenDrawn } from '../charts.js';
import { h, fmt, fmtTime, fmtDuration, studyHref } from '../util.js';
import { loadStudy } from './common.js';

export default {
    async render(ctx) {
        const b = await loadStudy(ctx);
        const n = ctx.route.number;
        if (b.tr.row(n) < 0) {
            ctx.main.replaceChildren(h('h1', {}, `Trial ${n}`));
            ctx.empty(`Study "${b.name}" has no trial ${n}.`);
            return {};
        }
        data.forget('trial:' + b.name + ':' + n + '');
        let d;
        try {
            d = await data.trial(b.name, n);
        } catch (err) {
            if (err.status !== 404 || data.mode !== 'report') throw err;
            const i = b.tr.row(n);
            ctx.main.replaceChildren(h('h1', {}, `Trial ${n}`),
                h('p', {}, `${b.tr.state[i]}, value ${fmt(b.tr.value[i])}.`));
            ctx.empty('This trial\'s detail is not in the report (it holds the '
                      + 'best 50 and the 50 last ended).');
            return {};
        }
        let chart = null, drawn = false;
        const el = h('div', { class: 'chart' });
        const top = h('div'), bottom = h('div');
        ctx.main.replaceChildren(top, el, bottom);

        function draw() {
            const t = d.trial;
            top.replaceChildren(
                h('h1', {}, `Trial ${t.number} `, h('span', { class: 'badge state-' + t.state },
                                                     t.state)),
                h('p', {}, `value ${fmt(t.value)} · attempt ${fmt(t.attempt)} · worker `
                    + `${t.worker || '-'} · started ${fmtTime(t.started)}`
                    + (t.ended ? ` · ran ${fmtDuration(t.ended - t.started)}` : '')
                    + (t.reason ? ` · ${t.reason}` : '')),
                h('p', {}, n > 0 ? h('a', { href: studyHref(b.name, 'trial/' + (n - 1)) },
                                     '\u2190 previous') : null, ' ',
                  h('a', { href: studyHref(b.name, 'trial/' + (n + 1)) }, 'next \u2192')),
                h('h2', {}, 'Parameters'),
                h('table', { class: 'grid', 'data-testid': 'trial-params' },
                    h('tbody', {}, Object.entries(t.params || {}).map(([k, v]) =>
                        h('tr', {}, h('th', {}, k), h('td', {}, fmt(v)))))),
                h('h2', {}, 'Reported values'));
            bottom.replaceChildren(h('h2', {}, 'Attempts'),
                h('table', { class: 'grid', 'data-testid': 'attempts' },
                    h('thead', {}, h('tr', {}, ['attempt', 'worker', 'started',
                        'duration', 'outcome', 'reason'].map((c) => h('th', {}, c)))),
                    h('tbody', {}, d.attempts.map((a) => h('tr', {},
                        h('td', {}, fmt(a.attempt)), h('td', {}, a.worker || ''),
                        h('td', {}, fmtTime(a.started)),
                        h('td', {}, a.ended ? fmtDuration(a.ended - a.started) : 'running'),
                        h('td', { class: 'state-' + a.outcome }, a.outcome),
                        h('td', {}, a.reason || ''))))),
                d.attempts.filter((a) => a.log_tail).map((a) => h('details', { open: true },
                    h('summary', {}, `Log tail of attempt ${a.attempt}`),
                    h('pre', { class: 'log', 'data-testid': 'log-tail' }, a.log_tail))));
            const groups = new Map();
            for (const v of d.values) {
                const key = `${v.metric} (attempt ${v.attempt})`;
                if (!groups.has(key)) groups.set(key, []);
                groups.get(key).push([v.step, v.value]);
            }
            el.hidden = groups.size === 0;
            if (!groups.size) {
                top.append(h('p', { class: 'note' }, 'No intermediate values.'));
                ctx.ready();
                return;
            }
            if (!chart) chart = makeChart(el, ctx);
            chart.setOption({
                animation: false,
                grid: { left: 70, right: 30, top: 40, bottom: 40 },
                legend: { top: 5 },
                tooltip: { trigger: 'axis' },
                xAxis: { type: 'value', name: 'step' },
                yAxis: { type: 'value', scale: true },
                series: [...groups].map(([name, pts]) => ({
                    name, type: 'line', symbolSize: 4,
                    data: pts.sort((x, y) => x[0] - y[0]) })),
            }, true);
            if (!drawn) { drawn = true; whenDrawn(chart, () => ctx.ready()); }
            else ctx.ready();
        }
        draw();
        return { update: draw };
    },
};
