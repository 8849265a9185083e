// What most study views start from: the study's detail and trials.
import * as data from '../data.js';
import { h, ui, num, better } from '../util.js';

export async function loadStudy(ctx) {
    const name = ctx.route.study;
    const [det, tr] = await Promise.all([data.detail(name), data.trials(name)]);
    const info = () => {
        const l = data.studiesNow();
        return (l && l.studies.get(name)) || det.study;
    };
    // Parameter names: the space's, then any only seen in trials.
    const params = () => {
        const names = det.space.map((p) => p.name);
        for (const k of Object.keys(tr.params))
            if (!names.includes(k)) names.push(k);
        return names;
    };
    const spec = (p) => det.space.find((s) => s.name === p) || null;
    return { name, det, tr, info, params, spec,
             cmp: () => better(info().direction) };
}

// Rows in the state filter that have an objective value.
export function valued(tr) {
    const out = [];
    for (let i = 0; i < tr.n; i++)
        if (ui.states.has(tr.state[i]) && num(tr.value[i]) !== null) out.push(i);
    return out;
}

export function isCategorical(spec, col) {
    if (spec) return spec.kind === 'categorical';
    return col.some((v) => v !== null && typeof v !== 'number');
}

// The categories of a parameter: the space's choices, then any seen.
export function categories(spec, col) {
    const cats = (spec && spec.values ? spec.values : []).map(String);
    const seen = new Set(cats);
    for (const v of col)
        if (v !== null && !seen.has(String(v))) { seen.add(String(v)); cats.push(String(v)); }
    return cats;
}

// Log scale is possible when every shown value is positive.
export function canLog(col, rows) {
    for (const i of rows) { const v = col[i]; if (v !== null && !(v > 0)) return false; }
    return true;
}

export function emptyStudy(ctx, b) {
    if (b.tr.n > 0) return false;
    ctx.empty(`Study "${b.name}" has no trials yet.`);
    return true;
}

export function controls(...kids) {
    return h('div', { class: 'controls' }, ...kids);
}

export function note(text) {
    return h('span', { class: 'note' }, text);
}
