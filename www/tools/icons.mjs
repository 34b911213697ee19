// Renders the PNG icons of the web app manifest from the SVG drawings, with headless
// Chromium (playwright-core, /usr/bin/chromium). The PNGs are committed, so building
// the dashboard needs no browser; run this after changing an SVG:
//
//   cd www && npm install && node tools/icons.mjs
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'icons');
const icons = [
	['icon.svg', 'icon-192.png', 192],
	['icon.svg', 'icon-512.png', 512],
	['maskable.svg', 'maskable-512.png', 512],
];

const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--no-sandbox'],
});
try {
	for (const [svg, png, size] of icons) {
		const page = await browser.newPage({ viewport: { width: size, height: size } });
		const src = readFileSync(join(dir, svg), 'utf8');
		await page.setContent('<style>html,body{margin:0;background:transparent}' +
			`svg{display:block;width:${size}px;height:${size}px}</style>${src}`);
		await page.screenshot({ path: join(dir, png), omitBackground: true });
		await page.close();
		console.log(`icons: ${png} (${size}x${size})`);
	}
} finally {
	await browser.close();
}
