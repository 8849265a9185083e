// The page's tables: events are idempotent upserts (docs/dashboard.md), so
// applying one twice, or an older one after a newer answer, must not
// change what the views draw.  node --test web/test/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Trials, Curves, Timeline } from '../src/tables.js';

const trialsDoc = {
    version: 5, n: 2, number: [0, 1], state: ['COMPLETE', 'RUNNING'],
    value: [0.3, null], attempt: [1, 1], worker: ['a', 'b'],
    started: [1, 2], ended: [3, null], last_step: [9, 2],
    last_value: [0.3, 0.6], reason: [null, null],
    params: { lr: [0.1, 0.01], opt: ['sgd', null] },
};

test('a trial event updates its row in place, twice is the same', () => {
    const t = new Trials(trialsDoc);
    const ev = { number: 1, state: 'COMPLETE', value: 0.2, attempt: 1,
                 worker: 'b', started: 2, ended: 4, reason: null,
                 last_step: 9, last_value: 0.2,
                 params: { lr: 0.01, opt: 'adam' } };
    t.upsert(ev);
    t.upsert(ev);
    assert.equal(t.n, 2);
    assert.equal(t.state[1], 'COMPLETE');
    assert.equal(t.value[1], 0.2);
    assert.equal(t.params.opt[1], 'adam');
});

test('a new trial is appended; a new parameter gets a column', () => {
    const t = new Trials(trialsDoc);
    t.upsert({ number: 7, state: 'RUNNING', params: { lr: 0.5, depth: 3 } });
    assert.equal(t.n, 3);
    assert.equal(t.row(7), 2);
    assert.deepEqual(t.params.depth, [null, null, 3]);
    assert.equal(t.params.opt[2], null);     // absent: null (a when: param)
    assert.deepEqual(t.rows(new Set(['RUNNING'])), [1, 2]);
});

test('a trial event without params keeps the row\'s', () => {
    const t = new Trials(trialsDoc);
    t.upsert({ number: 0, state: 'COMPLETE', value: 0.25 });
    assert.equal(t.params.lr[0], 0.1);
    assert.equal(t.params.opt[0], 'sgd');
    assert.equal(t.value[0], 0.25);
});

test('curves: a value extends, a repeated one replaces, out of order sorts', () => {
    const c = new Curves({ metric: 'loss', n: 2, number: [0, 0], step: [0, 1],
                           value: [0.9, 0.5] });
    c.add({ number: 0, attempt: 1, step: 2, metric: 'loss', value: 0.4 });
    c.add({ number: 0, attempt: 1, step: 2, metric: 'loss', value: 0.4 });
    c.add({ number: 0, attempt: 1, step: 1, metric: 'loss', value: 0.45 });
    c.add({ number: 3, attempt: 1, step: 5, metric: 'loss', value: 0.7 });
    c.add({ number: 3, attempt: 1, step: 4, metric: 'loss', value: 0.8 });
    assert.deepEqual(c.byTrial.get(0).step, [0, 1, 2]);
    assert.deepEqual(c.byTrial.get(0).value, [0.9, 0.45, 0.4]);
    assert.deepEqual(c.byTrial.get(3).step, [4, 5]);
});

test('curves: a newer attempt starts afresh, an older one is ignored', () => {
    const c = new Curves({ metric: 'loss', n: 0, number: [], step: [], value: [] });
    c.add({ number: 1, attempt: 1, step: 0, metric: 'loss', value: 0.9 });
    c.add({ number: 1, attempt: 1, step: 1, metric: 'loss', value: 0.8 });
    c.add({ number: 1, attempt: 2, step: 0, metric: 'loss', value: 0.7 });
    c.add({ number: 1, attempt: 1, step: 2, metric: 'loss', value: 0.1 });
    assert.deepEqual(c.byTrial.get(1).step, [0]);
    assert.deepEqual(c.byTrial.get(1).value, [0.7]);
    c.attemptIs(1, 3);               // a trial event: attempt 3 started
    assert.deepEqual(c.byTrial.get(1).step, []);
});

test('timeline: an attempt is keyed by (number, attempt); a running bar ends', () => {
    const tl = new Timeline({ n: 1, number: [0], attempt: [1], worker: ['a'],
                              started: [1], ended: [2], outcome: ['LOST'],
                              reason: ['lease expired'] });
    tl.running({ number: 0, attempt: 2, worker: 'b', started: 3 });
    tl.running({ number: 0, attempt: 2, worker: 'b', started: 3 });
    assert.equal(tl.n, 2);
    assert.equal(tl.outcome[1], 'RUNNING');
    tl.upsert({ number: 0, attempt: 2, worker: 'b', started: 3, ended: 5,
                outcome: 'COMPLETE', reason: null });
    tl.running({ number: 0, attempt: 2, worker: 'b', started: 3 });
    assert.equal(tl.n, 2);
    assert.equal(tl.outcome[1], 'COMPLETE');   // a late trial event: still ended
    assert.equal(tl.outcome[0], 'LOST');
});
