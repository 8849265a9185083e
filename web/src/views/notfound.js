import { h } from '../util.js';

export default {
    render(ctx) {
        ctx.main.replaceChildren(h('h1', {}, 'Not found'),
            h('p', {}, h('a', { href: '#/' }, 'All studies')));
        ctx.set('error', 'No such page: ' + location.hash);
    },
};
