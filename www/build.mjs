// Assembles the dashboard for serving: `node www/build.mjs OUT` (run by `make www`,
// after npm ci). Copies the app and uPlot's dist files (from node_modules, never
// committed) to OUT, and stamps sw.js with a hash of everything and the list of files
// to keep offline. The Makefile then adds the gzip -9 variants.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2];
if (!out) {
	console.error('usage: node www/build.mjs OUTDIR');
	process.exit(2);
}

const uplot = join(src, 'node_modules', 'uplot');
const files = [
	['index.html'], ['app.css'], ['manifest.webmanifest'],
	...readdirSync(join(src, 'js')).filter((f) => f.endsWith('.js')).map((f) => [`js/${f}`]),
	...readdirSync(join(src, 'icons')).filter((f) => /\.(svg|png)$/.test(f)).map((f) => [`icons/${f}`]),
	['vendor/uPlot.iife.min.js', join(uplot, 'dist', 'uPlot.iife.min.js')],
	['vendor/uPlot.min.css', join(uplot, 'dist', 'uPlot.min.css')],
	['vendor/uPlot.LICENSE.txt', join(uplot, 'LICENSE')],
];

rmSync(out, { recursive: true, force: true });
const hash = createHash('sha256');
for (const [path, from] of files) {
	const to = join(out, path);

	mkdirSync(dirname(to), { recursive: true });
	copyFileSync(from || join(src, path), to);
	hash.update(path + '\0').update(readFileSync(to));
}
const version = hash.digest('hex').slice(0, 12);
const shell = files.map(([p]) => JSON.stringify(p)).join(', ');
const sw = readFileSync(join(src, 'sw.js'), 'utf8')
	.replace('__VERSION__', version)
	.replace('/* __SHELL__ */', shell);
if (sw.includes('__VERSION__') || sw.includes('__SHELL__'))
	throw new Error('sw.js: the placeholders were not filled in');
writeFileSync(join(out, 'sw.js'), sw);
console.log(`www: ${files.length + 1} files in ${relative(process.cwd(), out) || '.'} (version ${version})`);
