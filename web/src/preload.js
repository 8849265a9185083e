// Inlined at the top of <head>, before the big script (whose parsing takes
// a while): starts fetching the answers the first view needs, so they come
// in meanwhile. data.js takes each promise once (getJSON). Nothing is
// fetched in a report (its answers are in the page).
(function () {
    if (document.getElementById('hpo-data')) return;
    const pre = {};
    window.__hpoPrefetch = pre;
    const get = (p) => {
        pre[p] = fetch(p, { credentials: 'same-origin',
                            headers: { Accept: 'application/json' } });
        pre[p].catch(() => { /* getJSON reports it */ });
    };
    get('/api/studies');
    const m = location.hash.match(/^#\/study\/([^/?]+)(?:\/([a-z]+))?/);
    if (!m) return;
    let name;
    try { name = decodeURIComponent(m[1]); } catch (e) { return; }
    const base = '/api/studies/' + encodeURIComponent(name);
    get(base);
    if (m[2] && m[2] !== 'overview') get(base + '/trials');
})();
