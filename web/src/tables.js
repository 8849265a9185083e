// Columnar in-memory tables, built from the API's columnar answers and
// updated in place by events (idempotent upserts keyed by trial number,
// by (number, attempt), or by (number, step)).

const TRIAL_COLS = ['number', 'state', 'value', 'attempt', 'worker',
                    'started', 'ended', 'last_step', 'last_value', 'reason'];

export class Trials {
    constructor(doc) {
        const n = doc.n || 0;
        for (const c of TRIAL_COLS) this[c] = (doc[c] || []).slice(0, n);
        for (const c of TRIAL_COLS)
            while (this[c].length < n) this[c].push(null);
        this.params = {};
        for (const [k, col] of Object.entries(doc.params || {}))
            this.params[k] = col.slice(0, n);
        this.index = new Map();
        for (let i = 0; i < n; i++) this.index.set(this.number[i], i);
        this.rev = 0;
    }
    get n() { return this.number.length; }
    row(number) { const i = this.index.get(number); return i === undefined ? -1 : i; }
    upsert(t) {
        let i = this.row(t.number);
        if (i < 0) {
            i = this.number.length;
            for (const c of TRIAL_COLS) this[c].push(null);
            for (const col of Object.values(this.params)) col.push(null);
            this.index.set(t.number, i);
        }
        for (const c of TRIAL_COLS)
            if (t[c] !== undefined) this[c][i] = t[c];
        // An event's params are the trial's, whole: a parameter it lacks
        // is absent (a when: one). No params at all leaves them be.
        const p = t.params;
        if (!p) { this.rev++; return; }
        for (const [k, v] of Object.entries(p)) {
            if (!this.params[k])
                this.params[k] = new Array(this.number.length).fill(null);
            this.params[k][i] = v;
        }
        for (const [k, col] of Object.entries(this.params))
            if (!(k in p)) col[i] = null;
        this.rev++;
    }
    // Row indices whose state is in the set.
    rows(states) {
        const out = [];
        for (let i = 0; i < this.number.length; i++)
            if (states.has(this.state[i])) out.push(i);
        return out;
    }
}

// Intermediate values of one metric, per trial's latest attempt:
// byTrial: number -> {attempt, step: [], value: []}, steps ascending.
export class Curves {
    constructor(doc) {
        this.metric = doc.metric;
        this.byTrial = new Map();
        const n = doc.n || 0;
        for (let i = 0; i < n; i++) {
            const c = this.curve(doc.number[i], null);
            c.step.push(doc.step[i]);
            c.value.push(doc.value[i]);
        }
        for (const c of this.byTrial.values()) this.sort(c);
        this.rev = 0;
    }
    curve(number, attempt) {
        let c = this.byTrial.get(number);
        if (!c) {
            c = { attempt, step: [], value: [] };
            this.byTrial.set(number, c);
        }
        return c;
    }
    sort(c) {
        const ix = c.step.map((_, i) => i).sort((a, b) => c.step[a] - c.step[b]);
        c.step = ix.map((i) => c.step[i]);
        c.value = ix.map((i) => c.value[i]);
    }
    // A newer attempt starts its curve afresh; an older one is stale.
    attemptIs(number, attempt) {
        const c = this.byTrial.get(number);
        if (!c || !attempt) return;
        if (c.attempt === null) c.attempt = attempt;
        else if (attempt > c.attempt) {
            c.attempt = attempt; c.step = []; c.value = []; this.rev++;
        }
    }
    add(ev) {
        this.attemptIs(ev.number, ev.attempt);
        const c = this.curve(ev.number, ev.attempt);
        if (c.attempt !== null && ev.attempt < c.attempt) return;
        const n = c.step.length;
        if (n === 0 || ev.step > c.step[n - 1]) {
            c.step.push(ev.step); c.value.push(ev.value);
        } else {
            const j = c.step.indexOf(ev.step);
            if (j >= 0) c.value[j] = ev.value;
            else { c.step.push(ev.step); c.value.push(ev.value); this.sort(c); }
        }
        this.rev++;
    }
}

const ATTEMPT_COLS = ['number', 'attempt', 'worker', 'started', 'ended',
                      'outcome', 'reason'];

// Every attempt, keyed by "number/attempt".
export class Timeline {
    constructor(doc) {
        const n = doc.n || 0;
        for (const c of ATTEMPT_COLS) this[c] = (doc[c] || []).slice(0, n);
        this.index = new Map();
        for (let i = 0; i < n; i++)
            this.index.set(this.number[i] + '/' + this.attempt[i], i);
        this.rev = 0;
    }
    get n() { return this.number.length; }
    upsert(a) {
        const key = a.number + '/' + a.attempt;
        let i = this.index.get(key);
        if (i === undefined) {
            i = this.number.length;
            for (const c of ATTEMPT_COLS) this[c].push(null);
            this.index.set(key, i);
        }
        for (const c of ATTEMPT_COLS)
            if (a[c] !== undefined) this[c][i] = a[c];
        this.rev++;
    }
    // A trial event for a running attempt: its bar starts (not once ended).
    running(t) {
        const i = this.index.get(t.number + '/' + t.attempt);
        if (i !== undefined && this.outcome[i] !== 'RUNNING') return;
        this.upsert({ number: t.number, attempt: t.attempt, worker: t.worker,
                      started: t.started, ended: null, outcome: 'RUNNING',
                      reason: null });
    }
}
