// Deterministic fixture studies for the mock (web/dev/mock.mjs), shaped as
// docs/dashboard.md says the coordinator answers: an empty study, one
// trial, a conditional space, all pruned, failed and re-run trials, a
// 1,000-trial and a 100,000-trial study, and "live", which the mock keeps
// changing over its event stream.

export function rng(seed) {
    let s = seed >>> 0;
    return () => {
        s = (s + 0x6d2b79f5) >>> 0;
        let t = s;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

// Times end about now, so running attempts and rates look as they would.
const NOW = Math.floor(Date.now() / 1000);
const SPACE = [
    { name: 'lr', kind: 'float', log: true, low: 1e-5, high: 0.1, step: null,
      values: null, when: null },
    { name: 'layers', kind: 'int', log: false, low: 1, high: 8, step: 1,
      values: null, when: null },
    { name: 'dropout', kind: 'float', log: false, low: 0, high: 0.5, step: null,
      values: null, when: null },
    { name: 'opt', kind: 'categorical', log: false, low: null, high: null,
      step: null, values: ['adam', 'sgd', 'rmsprop'], when: null },
];
const COND = [
    ...SPACE,
    { name: 'momentum', kind: 'float', log: false, low: 0.5, high: 0.99,
      step: null, values: null, when: { param: 'opt', values: ['sgd'] } },
];

function drawParams(space, r) {
    const p = {};
    for (const s of space) {
        if (s.when && !s.when.values.includes(p[s.when.param])) continue;
        if (s.kind === 'categorical') p[s.name] = s.values[Math.floor(r() * s.values.length)];
        else if (s.kind === 'int') p[s.name] = s.low + Math.floor(r() * (s.high - s.low + 1));
        else if (s.log) p[s.name] = Math.exp(Math.log(s.low) + r() * (Math.log(s.high) - Math.log(s.low)));
        else p[s.name] = s.low + r() * (s.high - s.low);
    }
    return p;
}

function loss(p, r) {
    const lr = p.lr ? Math.abs(Math.log10(p.lr) + 3) : 1;
    return 0.05 + 0.1 * lr + 0.02 * (p.layers || 1) * (p.dropout || 0)
        + (p.opt === 'sgd' ? 0.05 : 0) + 0.03 * r();
}

// A study: {info, space, spec, trials: [trial], attempts: [attempt],
// values: [{number, attempt, step, metric, value}]}.
export function makeStudy(name, opts) {
    const r = rng(opts.seed || 1);
    const space = opts.space || SPACE;
    const st = {
        name, space, t0: NOW - 3 * (opts.n || 0) - 60, trials: [], attempts: [], values: [],
        spec: `study ${name}\nobjective minimize val_loss\nsampler tpe\n`,
        info: { name, state: opts.state || 'RUNNING', direction: 'minimize',
                metric: 'val_loss', sampler: 'tpe',
                pruner: opts.pruner === undefined ? 'median' : opts.pruner,
                created: NOW - 3 * (opts.n || 0) - 120, ended: null, budget: opts.budget ?? null },
        workers: opts.workers || ['gpu1', 'gpu2', 'gpu3', 'gpu4'],
    };
    const curves = opts.curves ?? true;
    for (let n = 0; n < (opts.n || 0); n++) {
        const state = opts.stateOf ? opts.stateOf(n, r) : 'COMPLETE';
        addTrial(st, n, state, r, curves, opts.rerun && opts.rerun(n));
    }
    return st;
}

export function addTrial(st, n, state, r, curves, reruns) {
    const params = drawParams(st.space, r);
    const v = loss(params, r);
    const w = st.workers[n % st.workers.length];
    const started = st.t0 + n * 3;
    const ended = state === 'RUNNING' || state === 'WAITING' ? null : started + 2 + r() * 5;
    const attempts = 1 + (reruns || 0);
    const steps = state === 'PRUNED' ? 3 : 10;
    const t = { number: n, state, params: state === 'WAITING' ? {} : params,
                value: state === 'COMPLETE' ? v : null, attempt: state === 'WAITING' ? 0 : attempts,
                worker: state === 'WAITING' ? null : w,
                started: state === 'WAITING' ? null : started, ended,
                reason: state === 'PRUNED' ? 'pruned at step 3'
                    : state === 'FAILED' ? 'exit status 1' : null,
                last_step: null, last_value: null };
    if (state !== 'WAITING') {
        for (let a = 1; a <= attempts; a++) {
            const last = a === attempts;
            const w2 = st.workers[(n + a - 1) % st.workers.length];
            st.attempts.push({ number: n, attempt: a, worker: last ? w : w2,
                started: started - (attempts - a) * 1, ended: last ? ended : started - (attempts - a) + 0.5,
                outcome: last ? state : 'LOST', reason: last ? t.reason : 'lease expired',
                log_tail: last && state === 'FAILED' ? 'Traceback (most recent call last):\n  ...\nValueError: nan loss\n' : null });
        }
        if (curves) {
            const s = state === 'RUNNING' ? 4 : steps;
            for (let k = 0; k < s; k++) {
                const val = v + 0.5 * Math.exp(-k / 3) + 0.01 * r();
                st.values.push({ number: n, attempt: attempts, step: k,
                                 metric: 'val_loss', value: val });
                t.last_step = k; t.last_value = val;
            }
        }
    }
    st.trials[n] = t;
    return t;
}

export function fixtures() {
    const S = new Map();
    const add = (st) => S.set(st.info.name, st);
    add(makeStudy('empty', { n: 0 }));
    add(makeStudy('one', { n: 1, seed: 2 }));
    add(makeStudy('conditional', { n: 200, seed: 3, space: COND }));
    add(makeStudy('pruned', { n: 50, seed: 4, stateOf: () => 'PRUNED' }));
    add(makeStudy('reruns', { n: 60, seed: 5,
        stateOf: (n) => n % 7 === 3 ? 'FAILED' : n > 55 ? 'RUNNING' : 'COMPLETE',
        rerun: (n) => n % 5 === 1 ? 1 + (n % 2) : 0 }));
    add(makeStudy('k1', { n: 1000, seed: 6, budget: 1000, state: 'COMPLETED',
                          stateOf: (n, r) => r() < 0.1 ? 'PRUNED' : 'COMPLETE' }));
    add(makeStudy('k100', { n: 100000, seed: 7, curves: false,
        workers: Array.from({ length: 32 }, (_, i) => 'node' + i),
        stateOf: (n, r) => n >= 99990 ? 'RUNNING' : r() < 0.2 ? 'PRUNED'
            : r() < 0.01 ? 'FAILED' : 'COMPLETE' }));
    add(makeStudy('live', { n: 5, seed: 8, budget: 500 }));
    for (const st of S.values()) st.info.name = st.name;
    return S;
}
