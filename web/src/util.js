// Small helpers shared by the views: DOM building, formatting, the global
// state filter and selection.

export function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
        else if (k === 'text') el.textContent = v;
        else el.setAttribute(k, v === true ? '' : v);
    }
    for (const kid of kids.flat()) {
        if (kid === null || kid === undefined || kid === false) continue;
        el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return el;
}

export function fmt(v) {
    if (v === null || v === undefined) return '';
    if (typeof v === 'number') {
        if (Number.isInteger(v)) return String(v);
        const a = Math.abs(v);
        return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3)
            : String(Number(v.toPrecision(5)));
    }
    return String(v);
}

export function fmtTime(t) {
    if (t === null || t === undefined) return '';
    const d = new Date(t * 1000);
    const p = (x) => String(x).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} `
        + `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function fmtDuration(s) {
    if (s === null || s === undefined || !isFinite(s)) return '';
    if (s < 60) return s.toFixed(1) + ' s';
    if (s < 3600) return (s / 60).toFixed(1) + ' min';
    return (s / 3600).toFixed(1) + ' h';
}

export function studyHref(name, sub) {
    return '#/study/' + encodeURIComponent(name) + (sub ? '/' + sub : '');
}

export const STATES = ['COMPLETE', 'PRUNED', 'FAILED', 'RUNNING', 'WAITING'];

// The global state filter (every graph and the table follow it) and the
// trials brushed in the parallel coordinates (per study), which the trial
// table can show alone.
export const ui = {
    states: new Set(STATES),
    selection: new Map(),       // study -> Set of trial numbers
    onFilter: new Set(),
};

export function setStateFilter(state, on) {
    if (on) ui.states.add(state); else ui.states.delete(state);
    for (const fn of ui.onFilter) fn();
}

// Numbers: the value of a parameter as a number, or null (categorical
// values and absent ones are not).
export function num(v) {
    return typeof v === 'number' && isFinite(v) ? v : null;
}

// Best first: ascending when minimizing.
export function better(direction) {
    return direction === 'maximize' ? (a, b) => b - a : (a, b) => a - b;
}

// Up to max row indices, evenly spread (deterministic), always keeping
// the rows in keep: how the large graphs stay responsive.
export function sample(rows, max, keep) {
    if (rows.length <= max) return rows;
    const out = [];
    const kept = new Set(keep || []);
    const stride = rows.length / Math.max(1, max - kept.size);
    for (let x = 0; x < rows.length; x += stride) {
        const r = rows[Math.floor(x)];
        if (!kept.has(r)) out.push(r);
    }
    for (const r of kept) out.push(r);
    return out;
}
