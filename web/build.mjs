// Bundles src/main.js (with a custom ECharts build: echarts/core and only
// the charts and components src/charts.js registers) and src/style.css into
// ONE self-contained HTML file: inline script and style, no external URL.
//
//   node build.mjs [OUTFILE]      default: dist/index.html
//
// Deterministic: the same sources and lockfile give the same bytes
// (scripts/build-web.sh --check compares). The report writer (hpo report)
// inserts its <script id="hpo-data"> before the first "<script" of the
// file, the preload's at the top of <head> (so both scripts see it).
import * as esbuild from 'esbuild';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] || join(here, 'dist', 'index.html');

const common = {
    bundle: true, minify: true, write: false, logLevel: 'warning',
    legalComments: 'none', charset: 'utf8', target: ['es2020'],
};
const js = await esbuild.build({
    ...common, entryPoints: [join(here, 'src', 'main.js')],
    format: 'iife', define: { 'process.env.NODE_ENV': '"production"' },
});
const css = await esbuild.build({
    ...common, entryPoints: [join(here, 'src', 'style.css')],
});
const pre = await esbuild.build({
    ...common, entryPoints: [join(here, 'src', 'preload.js')], format: 'iife',
});
let script = js.outputFiles[0].text;
const preload = pre.outputFiles[0].text;
const style = css.outputFiles[0].text;

// Inline script: "</script" or "<!--" inside it would end or confuse the
// element. Inside JS they can only be in strings, regexps or comments,
// where "<\/" and "\x3C!--" mean the same (esbuild keeps "</script"
// escaped already; this is a guard for the rest).
script = script.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '\\x3C!--');
if (/<script|<\/script|<!--/i.test(script + preload))
    throw new Error('build.mjs: the script holds text that would end it');
if (/<\/style|url\(\s*['"]?[a-z]+:/i.test(style))
    throw new Error('build.mjs: the style would end early or load a URL');

const license = 'Bundles Apache ECharts and ZRender (Apache License 2.0) '
    + 'and tslib (0BSD).';
const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<script>${preload}</script>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>hpo dashboard</title>
<link rel="icon" href="data:,">
<!-- ${license} -->
<style>${style}</style>
</head>
<body>
<div id="app"></div>
<script>${script}</script>
</body>
</html>
`;
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, html);
const kb = (Buffer.byteLength(html) / 1024).toFixed(0);
console.log(`build.mjs: wrote ${out} (${kb} KiB)`);
