// #/study/NAME/trials : every trial in a virtualised table (only the rows
// in sight are in the DOM), sorted by any column, filtered by text, with a
// jump to a trial number. Click a row for the trial's detail.
import { h, fmt, fmtTime, fmtDuration, ui, studyHref } from '../util.js';
import { loadStudy, emptyStudy, controls, note } from './common.js';

const ROW = 24;         // px, fixed: row i is at i * ROW
const OVERSCAN = 10;

const BASE = [
    ['number', (t, i) => t.number[i], 70],
    ['state', (t, i) => t.state[i], 90],
    ['value', (t, i) => t.value[i], 100],
    ['attempt', (t, i) => t.attempt[i], 64],
    ['worker', (t, i) => t.worker[i], 110],
    ['started', (t, i) => t.started[i], 150, fmtTime],
    ['duration', (t, i) => t.started[i] && t.ended[i]
        ? t.ended[i] - t.started[i] : null, 80, fmtDuration],
    ['last_step', (t, i) => t.last_step[i], 70],
    ['last_value', (t, i) => t.last_value[i], 100],
    ['reason', (t, i) => t.reason[i], 200],
];

function compare(a, b) {
    if (a === b) return 0;
    if (a === null || a === undefined) return 1;    // nulls last
    if (b === null || b === undefined) return -1;
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    return String(a) < String(b) ? -1 : 1;
}

export default {
    async render(ctx) {
        const b = await loadStudy(ctx);
        let sortCol = 'number', desc = false, text = '', onlySel = true;
        let cols = [], rows = [], highlight = null;

        const filterIn = h('input', { type: 'search', placeholder: 'filter',
            'data-testid': 'table-filter', oninput: (e) => {
                text = e.target.value.trim().toLowerCase(); refresh(); } });
        const jumpIn = h('input', { type: 'number', min: 0, placeholder: 'trial #',
            class: 'small', 'data-testid': 'jump',
            onkeydown: (e) => { if (e.key === 'Enter') jump(); },
            onchange: () => jump() });
        const info = note('');
        const selBox = h('label', { class: 'sel' });
        const head = h('div', { class: 'vt-head', role: 'row' });
        const spacer = h('div', { class: 'vt-spacer' });
        const body = h('div', { class: 'vt-body', 'data-testid': 'trial-table',
                                role: 'table', onscroll: paint }, spacer);
        ctx.main.replaceChildren(h('h1', {}, 'Trials'),
            controls(filterIn, h('label', {}, 'jump to ', jumpIn), selBox, info),
            h('div', { class: 'vt' }, head, body));

        function columns() {
            cols = BASE.slice();
            for (const p of b.params())
                cols.push([p, (t, i) => (t.params[p] || [])[i] ?? null, 100]);
            const tpl = cols.map((c) => c[2] + 'px').join(' ');
            head.style.gridTemplateColumns = tpl;
            spacer.style.setProperty('--cols', tpl);
            head.replaceChildren(...cols.map(([name]) => h('div', {
                class: 'th' + (name === sortCol ? (desc ? ' desc' : ' asc') : ''),
                'data-testid': 'sort-' + name, role: 'columnheader',
                onclick: () => {
                    if (sortCol === name) desc = !desc;
                    else { sortCol = name; desc = false; }
                    columns(); refresh();
                } }, name)));
        }

        function refresh() {
            if (emptyStudy(ctx, b)) { body.hidden = true; return; }
            body.hidden = false;
            const t = b.tr;
            const sel = ui.selection.get(b.name);
            selBox.replaceChildren();
            if (sel) selBox.append(h('input', { type: 'checkbox', checked: onlySel,
                'data-testid': 'only-brushed', onchange: (e) => {
                    onlySel = e.target.checked; refresh(); } }),
                ` only the ${sel.size} brushed in parallel coordinates`);
            rows = [];
            for (let i = 0; i < t.n; i++) {
                if (!ui.states.has(t.state[i])) continue;
                if (sel && onlySel && !sel.has(t.number[i])) continue;
                if (text) {
                    let hit = false;
                    for (const c of cols) {
                        const v = c[1](t, i);
                        if (v !== null && String(c[3] ? c[3](v) : v).toLowerCase()
                            .includes(text)) { hit = true; break; }
                    }
                    if (!hit) continue;
                }
                rows.push(i);
            }
            const get = cols.find((c) => c[0] === sortCol)[1];
            const key = rows.map((i) => get(t, i));
            const ix = rows.map((_, k) => k);
            ix.sort((x, y) => compare(key[x], key[y]) || t.number[rows[x]] - t.number[rows[y]]);
            if (desc) ix.reverse();
            rows = ix.map((k) => rows[k]);
            spacer.style.height = rows.length * ROW + 'px';
            info.textContent = `${rows.length} of ${t.n} trials`;
            paint();
            ctx.ready();
        }

        function paint() {
            const t = b.tr;
            const first = Math.max(0, Math.floor(body.scrollTop / ROW) - OVERSCAN);
            const last = Math.min(rows.length,
                Math.ceil((body.scrollTop + (body.clientHeight || 600)) / ROW) + OVERSCAN);
            const kids = [];
            for (let r = first; r < last; r++) {
                const i = rows[r];
                kids.push(h('div', {
                    class: 'tr state-' + t.state[i]
                        + (t.number[i] === highlight ? ' hl' : ''),
                    role: 'row', style: `top:${r * ROW}px`,
                    'data-testid': 'trial-row', 'data-number': t.number[i],
                    onclick: () => { location.hash = studyHref(b.name,
                        'trial/' + t.number[i]); } },
                    cols.map((c) => {
                        const v = c[1](t, i);
                        return h('div', { class: 'td' }, c[3] ? c[3](v) : fmt(v));
                    })));
            }
            spacer.replaceChildren(...kids);
        }

        function jump() {
            const n = Number(jumpIn.value);
            if (jumpIn.value === '' || !Number.isInteger(n)) return;
            const r = rows.findIndex((i) => b.tr.number[i] === n);
            if (r < 0) {
                info.textContent = `trial ${n} is not among the rows shown`;
                return;
            }
            highlight = n;
            body.scrollTop = Math.max(0, r * ROW - body.clientHeight / 3);
            paint();
        }

        columns();
        refresh();
        return { update: () => { columns(); refresh(); },
                 heavy: () => b.tr.n > 20000 };
    },
};
