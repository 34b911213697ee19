// Loads the luci-app-autonomy views in headless Chromium (playwright-core from
// www/node_modules, `make www`) on top of tests/luci/runtime.js, a small stand-in for
// the LuCI runtime, and prints one JSON report: {"cases": {NAME: report}, "errors": []}.
// tests/system/test_luci.py writes the plan (each case: the view file, the ubus answers
// recorded from a real autonomyd, optionally the answers for one poll round) and
// asserts on the report. This tests our views, not LuCI.
//
//   node tests/luci/run.mjs --plan plan.json [--chromium /usr/bin/chromium]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { chromium } = createRequire(join(ROOT, 'www', 'package.json'))('playwright-core');

const { values: opt } = parseArgs({
	options: {
		plan: { type: 'string' },
		chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
	},
});
if (!opt.plan) {
	console.error('usage: run.mjs --plan PLAN.json [--chromium PATH]');
	process.exit(2);
}

const plan = JSON.parse(readFileSync(opt.plan, 'utf8'));
const runtime = readFileSync(join(ROOT, 'tests', 'luci', 'runtime.js'), 'utf8');
const out = { cases: {}, errors: [] };
const browser = await chromium.launch({ executablePath: opt.chromium, args: ['--no-sandbox'] });

try {
	for (const c of plan.cases) {
		const page = await browser.newPage();
		const errors = [];

		page.on('pageerror', (e) => errors.push(String(e)));
		page.on('console', (m) => {
			if (m.type() === 'error' || m.type() === 'warning')
				errors.push(m.text());
		});
		await page.setContent('<!DOCTYPE html><html><head><meta charset="utf-8"></head>' +
			'<body></body></html>');
		await page.addScriptTag({ content: runtime });
		const source = readFileSync(resolve(ROOT, c.view), 'utf8');

		try {
			const report = await page.evaluate(
				([src, answers, o]) => window.__luci.run(src, answers, o),
				[source, c.answers, { tick: c.tick || null, validate: c.validate || null }]);

			report.errors = errors;
			out.cases[c.name] = report;
		} catch (e) {
			out.cases[c.name] = { failed: String(e && e.stack || e), errors };
		}
		await page.close();
	}
} catch (e) {
	out.errors.push(String(e && e.stack || e));
} finally {
	await browser.close();
}
console.log(JSON.stringify(out));
