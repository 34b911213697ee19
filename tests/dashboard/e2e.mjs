// The dashboard end to end, in real headless Chromium (/usr/bin/chromium) driven by
// playwright-core (www/node_modules, from `make www`). tests/system/test_dashboard.py
// runs it against a real autonomyd and asserts on the JSON report it prints last:
// {"checks": {NAME: {"ok": bool, "detail": …}}, "console": [{phase, text}]}.
//
//   node tests/dashboard/e2e.mjs --url http://127.0.0.1:8080/ --scenario lab \
//        --token TOKEN --active starlink --after fiber \
//        --fault 'lab/lab fault starlink blackhole' --artifacts build/test-artifacts
//
// Scenarios: `install` (manifest, icons, installability, service worker, keyboard,
// labels and contrast, offline shell) and `lab` (that, plus live failover, history, events, settings, actions,
// sign-in, phone and desktop screenshots).
import { execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { chromium } = createRequire(join(ROOT, 'www', 'package.json'))('playwright-core');

const { values: opt } = parseArgs({
	options: {
		url: { type: 'string' },
		scenario: { type: 'string', default: 'install' },
		token: { type: 'string', default: '' },
		active: { type: 'string', default: '' },
		after: { type: 'string', default: '' },
		fault: { type: 'string', default: '' },
		artifacts: { type: 'string', default: join(ROOT, 'build', 'test-artifacts') },
		chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
	},
});
if (!opt.url) {
	console.error('usage: e2e.mjs --url URL [--scenario install|lab] …');
	process.exit(2);
}
const base = opt.url.endsWith('/') ? opt.url : opt.url + '/';
const checks = {};
const consoleLog = [];
let phase = 'load';
/* Phases in which the browser rightly logs failed requests: a refused token (401),
 * a refused value (400), no network. Anything else in the console is an error. */
const EXPECTED = {
	login: /status of 401/,
	invalid: /status of 400/,
	offline: /ERR_INTERNET_DISCONNECTED|Failed to fetch|net::ERR/,
};

async function check(name, fn) {
	const t0 = Date.now();

	try {
		const detail = await fn();

		checks[name] = { ok: true, detail: detail ?? null, ms: Date.now() - t0 };
	} catch (e) {
		checks[name] = { ok: false, detail: String(e && e.stack || e), ms: Date.now() - t0 };
	}
}

function assert(cond, msg) {
	if (!cond)
		throw new Error(msg);
}

function watch(page, label) {
	page.on('console', (m) => {
		if (m.type() === 'error')
			consoleLog.push({ phase, page: label, type: m.type(), text: m.text() });
	});
	page.on('pageerror', (e) => consoleLog.push({ phase, page: label, type: 'pageerror', text: e.message }));
}

async function api(page, method, params = {}) {
	const q = new URLSearchParams(params).toString();
	const r = await page.request.get(`${base}api/${method}${q ? '?' + q : ''}`,
		{ headers: opt.token ? { Authorization: 'Bearer ' + opt.token } : {} });

	return r.json();
}

async function shot(page, name) {
	mkdirSync(opt.artifacts, { recursive: true });
	await page.screenshot({ path: join(opt.artifacts, name) });
}

function pngSize(buf) {
	assert(buf.subarray(1, 4).toString() === 'PNG', 'not a PNG');
	return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
}

// ---- installability --------------------------------------------------------------------

async function installChecks(page, cdp) {
	let manifest;

	await check('manifest', async () => {
		const r = await page.request.get(base + 'manifest.webmanifest');

		assert(r.ok(), `manifest: HTTP ${r.status()}`);
		assert(/application\/manifest\+json|application\/json/.test(r.headers()['content-type']),
			'manifest content type ' + r.headers()['content-type']);
		manifest = await r.json();
		for (const k of ['name', 'short_name', 'start_url', 'scope', 'display', 'icons',
			'background_color', 'theme_color'])
			assert(manifest[k], `manifest has no ${k}`);
		assert(['standalone', 'fullscreen', 'minimal-ui'].includes(manifest.display), 'display');
		const href = await page.getAttribute('link[rel=manifest]', 'href');

		assert(href === 'manifest.webmanifest', 'index.html links the manifest');
		return { name: manifest.name, display: manifest.display };
	});

	await check('icons', async () => {
		assert(manifest, 'no manifest');
		const sizes = [];

		for (const icon of manifest.icons) {
			const r = await page.request.get(new URL(icon.src, base).href);

			assert(r.ok(), `${icon.src}: HTTP ${r.status()}`);
			if (icon.type === 'image/png') {
				const [w, h] = pngSize(await r.body());

				assert(icon.sizes === `${w}x${h}`, `${icon.src} is ${w}x${h}, manifest says ${icon.sizes}`);
				sizes.push(`${w}x${h}${icon.purpose ? ' ' + icon.purpose : ''}`);
			}
		}
		assert(sizes.includes('192x192') && sizes.includes('512x512'), 'needs 192 and 512 PNG icons');
		assert(sizes.some((s) => s.includes('maskable')), 'needs a maskable icon');
		return sizes;
	});

	await check('sw_controls', async () => {
		await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null,
			{ timeout: 15000 });
		return page.evaluate(async () => {
			const reg = await navigator.serviceWorker.getRegistration();

			return { scope: reg.scope, state: reg.active && reg.active.state,
				caches: await caches.keys() };
		});
	});

	await check('installable', async () => {
		const { errors } = await cdp.send('Page.getAppManifest');
		const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');

		assert(!errors.length, 'manifest errors: ' + JSON.stringify(errors));
		assert(!installabilityErrors.length, 'not installable: ' + JSON.stringify(installabilityErrors));
		return 'no installability errors';
	});
}

// WCAG contrast of text against the first opaque background behind it.
function contrastProblems(selectors) {
	const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
	const lum = ([r, g, b]) => {
		const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);

		return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
	};
	const bg = (el) => {
		for (; el; el = el.parentElement) {
			const c = rgb(getComputedStyle(el).backgroundColor);

			if (c.length === 3 || c[3] > 0.9)
				return c;
		}
		return rgb(getComputedStyle(document.body).backgroundColor);
	};
	const bad = [];

	for (const sel of selectors) {
		for (const el of document.querySelectorAll(sel)) {
			const a = lum(rgb(getComputedStyle(el).color));
			const b = lum(bg(el));
			const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);

			if (ratio < 4.5)
				bad.push(`${sel} "${el.textContent.trim().slice(0, 20)}" ${ratio.toFixed(2)}`);
		}
	}
	return bad;
}

const TEXT = ['body', 'h1', 'h2', '.muted', '.tabs a', '.conn', '.badge', '.tag', '.meta',
	'.stats dt', '.stats dd', '.note', '.hint', '.field label', 'button', 'summary', 'legend',
	'.classline', '.why'];

async function a11yChecks(page) {
	await check('keyboard', async () => {
		await page.goto(base + '#/overview');
		await page.reload();
		await page.waitForSelector('#main .hero');
		await page.keyboard.press('Tab');
		const first = await page.evaluate(() => document.activeElement.className);

		assert(first === 'skip', 'the first Tab reaches ' + first);
		await page.keyboard.press('Tab');
		await page.keyboard.press('Tab');
		await page.keyboard.press('Tab');
		const nav = await page.evaluate(() => document.activeElement.dataset.page);

		assert(nav === 'history', 'Tab reaches ' + nav);
		await page.keyboard.press('Enter');
		await page.waitForSelector('#charts');
		return 'skip link, then the pages; Enter opens one';
	});

	await check('labels_contrast', async () => {
		const found = [];

		await page.goto(base + '#/settings');
		await page.waitForSelector('#config-forms input');
		const unlabelled = await page.$$eval('input, select, button', (els) => els
			.filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') &&
				!e.textContent.trim())
			.map((e) => e.id || e.outerHTML.slice(0, 60)));

		assert(!unlabelled.length, 'no label: ' + unlabelled.join(', '));
		for (const scheme of ['light', 'dark']) {
			await page.emulateMedia({ colorScheme: scheme });
			for (const pg of ['overview', 'settings']) {
				await page.click(`nav.tabs a[data-page=${pg}]`);
				await page.waitForSelector(pg === 'overview' ? '#cards .card' : '#config-forms input');
				found.push(...(await page.evaluate(contrastProblems, TEXT)).map((b) => `${scheme}: ${b}`));
			}
		}
		await page.emulateMedia({ colorScheme: 'light' });
		assert(!found.length, found.slice(0, 10).join('; '));
		return 'every control labelled; text contrast ≥ 4.5:1 in light and dark';
	});
}

async function offlineCheck(context, page, wantCards) {
	await check('offline_shell', async () => {
		phase = 'offline';
		await page.goto(base + '#/overview');
		await page.evaluate(() => { window.__before = true; });
		await context.setOffline(true);
		try {
			/* A new document, from the service worker's cache. */
			await page.reload();
			assert(await page.evaluate(() => window.__before === undefined), 'not reloaded');
			await page.waitForSelector('nav.tabs a[data-page=history]', { timeout: 10000 });
			await page.waitForSelector('#stale-banner', { timeout: 10000 });
			const text = await page.textContent('#stale-banner');
			const cards = await page.locator('#cards .card').count();

			assert(/Offline/.test(text), 'stale banner: ' + text);
			if (wantCards)
				assert(cards > 0, 'no member cards from the last known state');
			await shot(page, 'dashboard-offline.png');
			return { banner: text.trim(), cards };
		} finally {
			await context.setOffline(false);
			phase = 'online';
		}
	});
}

// ---- the lab story ---------------------------------------------------------------------

async function labChecks(context, page) {
	await check('overview_active', async () => {
		await page.click('nav.tabs a[data-page=overview]');
		await page.waitForFunction((want) => document.querySelector('#active')?.textContent === want,
			opt.active, { timeout: 30000 });
		await page.waitForSelector(`#card-${opt.active}.active`);
		/* latency and loss come from /api/members */
		await page.waitForFunction((n) => !/–/.test(document.querySelector(
			`#card-${n} .stats`)?.textContent ?? '–'), opt.active, { timeout: 15000 });
		return await page.textContent('#active');
	});
	await check('class_lines', async () => {
		/* the dish's line and the modem's (the lab's fake uqmi/mmcli/ubus) */
		await page.waitForFunction(() => /Radio LTE · RSRP -90 dBm · SINR 15\.0 dB · LabTel · home network/
			.test(document.querySelector('#card-cellular')?.textContent ?? ''), null, { timeout: 30000 });
		await page.waitForFunction(() => /Dish reachable/
			.test(document.querySelector('#card-starlink')?.textContent ?? ''), null, { timeout: 10000 });
		return (await page.textContent('#card-cellular')).replace(/\s+/g, ' ').trim();
	});
	await shot(page, 'dashboard-desktop-normal.png');

	await check('failover_live', async () => {
		phase = 'failover';
		await page.evaluate(() => { window.__sameDocument = true; });
		const t0 = Date.now();

		execSync(opt.fault, { stdio: 'inherit', cwd: ROOT });
		/* A banner of an earlier switch may be up already: wait for this one. */
		await page.waitForFunction((want) => document.querySelector('#switch-banner')?.textContent
			.includes(want), `${opt.active} → ${opt.after}`, { timeout: 20000 });
		const banner = await page.textContent('#switch-banner');
		await page.waitForFunction((want) => document.querySelector('#active')?.textContent === want,
			opt.after, { timeout: 10000 });
		await page.waitForSelector(`#card-${opt.after}.active`, { timeout: 5000 });
		const s = ((Date.now() - t0) / 1000).toFixed(1);

		assert(await page.evaluate(() => window.__sameDocument === true), 'the page was reloaded');
		return { seconds: Number(s), banner: banner.trim() };
	});

	await check('notification', async () => page.evaluate(async () => {
		const reg = await navigator.serviceWorker.getRegistration();
		let list = [];

		for (let i = 0; i < 50 && !list.length; i++) {
			list = await reg.getNotifications();
			if (!list.length)
				await new Promise((r) => setTimeout(r, 100));
		}
		if (Notification.permission !== 'granted' || !list.length)
			throw new Error(`permission ${Notification.permission}, ${list.length} notifications`);
		return list.map((n) => n.title);
	}));

	await page.waitForTimeout(1500);
	await shot(page, 'dashboard-desktop.png');
	phase = 'pages';

	await check('history_chart', async () => {
		await page.click('nav.tabs a[data-page=history]');
		const sel = `#hist-${opt.active}`;

		await page.waitForSelector(`${sel} canvas`, { timeout: 15000 });
		const points = Number(await page.getAttribute(sel, 'data-points'));
		const switches = Number(await page.getAttribute(sel, 'data-switches'));

		assert(points > 0, 'no points');
		assert(switches > 0, 'no switch marked');
		await shot(page, 'dashboard-history.png');
		return { points, switches, resolution: await page.getAttribute(sel, 'data-resolution') };
	});

	await check('events_filter', async () => {
		await page.click('nav.tabs a[data-page=events]');
		await page.waitForSelector('#events tbody tr');
		await page.selectOption('#f-type', 'switch');
		await page.selectOption('#f-member', opt.after);
		const types = await page.$$eval('#events tbody tr td.type', (tds) => tds.map((t) => t.textContent));

		assert(types.length > 0 && types.every((t) => t === 'switch'), 'rows: ' + types.join(','));
		return { rows: types.length, count: await page.textContent('#event-count') };
	});

	await check('system', async () => {
		await page.click('nav.tabs a[data-page=system]');
		await page.waitForSelector('#sys-daemon dd');
		await page.waitForSelector('#sys-cpu canvas', { timeout: 15000 });
		const text = await page.textContent('#sys-daemon');
		const info = await api(page, 'info');

		assert(text.includes(info.version), 'version not shown');
		assert(text.includes(info.features[0]), 'features not shown');
		return { version: info.version, cpuPoints: Number(await page.getAttribute('#sys-cpu', 'data-points')) };
	});

	const field = '#f-main-switch_margin';
	let orig;

	await check('login', async () => {
		await page.click('nav.tabs a[data-page=settings]');
		await page.waitForSelector(field);
		orig = (await api(page, 'config.get')).values.main.switch_margin;
		await page.fill(field, String(orig + 1));
		phase = 'login';
		await page.click('form[data-section=main] button[type=submit]');
		await page.waitForSelector('#login-token', { timeout: 5000 });
		await page.fill('#login-token', 'not-the-token');
		await page.click('dialog.login button[type=submit]');
		await page.waitForFunction(() => /Wrong token/.test(
			document.querySelector('#login-error')?.textContent), null, { timeout: 5000 });
		const wrong = await page.textContent('#login-error');

		await page.fill('#login-token', opt.token);
		await page.click('dialog.login button[type=submit]');
		await page.waitForSelector('dialog.login', { state: 'detached', timeout: 5000 });
		return { wrong };
	});

	await check('settings_roundtrip', async () => {
		await page.waitForFunction(() => /Saved/.test(document.querySelector('#msg-main')?.textContent),
			null, { timeout: 10000 });
		phase = 'pages';
		const now = (await api(page, 'config.get')).values.main.switch_margin;

		assert(now === orig + 1, `the daemon has ${now}, want ${orig + 1}`);
		const message = await page.textContent('#msg-main');

		await page.reload();
		await page.waitForSelector(field);
		const shown = await page.inputValue(field);

		assert(shown === String(orig + 1), 'the form shows ' + shown);
		return { from: orig, to: now, message };
	});

	await check('settings_invalid', async () => {
		phase = 'invalid';
		await page.fill(field, '500');
		await page.click('form[data-section=main] button[type=submit]');
		const err = field + '-err';

		await page.waitForSelector(err + ':not([hidden])', { timeout: 5000 });
		const text = await page.textContent(err);
		const invalid = await page.getAttribute(field, 'aria-invalid');

		assert(/out of range/.test(text) && text.includes('switch_margin'), 'error: ' + text);
		assert(invalid === 'true', 'aria-invalid ' + invalid);
		const now = (await api(page, 'config.get')).values.main.switch_margin;

		assert(now === orig + 1, 'the refused value changed the config: ' + now);
		phase = 'pages';
		await page.fill(field, String(orig));
		await page.click('form[data-section=main] button[type=submit]');
		await page.waitForFunction(() => /Saved/.test(document.querySelector('#msg-main')?.textContent),
			null, { timeout: 10000 });
		return { error: text };
	});

	await check('action_recheck', async () => {
		await page.click('#act-recheck ~ button');
		await page.waitForSelector('dialog[open]');
		await page.click('dialog[open] button[value=ok]');
		await page.waitForFunction(() => document.querySelector('#action-msg')?.className === 'msg ok',
			null, { timeout: 5000 });
		return await page.textContent('#action-msg');
	});

	await check('phone', async () => {
		const phone = await context.newPage();

		watch(phone, 'phone');
		await phone.setViewportSize({ width: 390, height: 844 });
		await phone.goto(base + '#/overview');
		await phone.waitForFunction((want) => document.querySelector('#active')?.textContent === want,
			opt.after, { timeout: 15000 });
		await phone.waitForTimeout(2500);
		const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - innerWidth);

		assert(overflow <= 0, `wider than the phone by ${overflow} px`);
		await shot(phone, 'dashboard-phone.png');
		await phone.close();
		return 'no horizontal overflow at 390 px';
	});
}

// ---- main ------------------------------------------------------------------------------

const profile = mkdtempSync(join(tmpdir(), 'autonomy-e2e-'));
let context;

try {
	context = await chromium.launchPersistentContext(profile, {
		executablePath: opt.chromium,
		headless: true,
		args: ['--no-sandbox'],
		viewport: { width: 1280, height: 800 },
		colorScheme: 'light',
		locale: 'en-GB',
		timezoneId: 'UTC',
	});
	await context.grantPermissions(['notifications'], { origin: new URL(base).origin });
	const page = context.pages()[0] || await context.newPage();
	const cdp = await context.newCDPSession(page);

	watch(page, 'desktop');
	await check('loads', async () => {
		await page.goto(base);
		await page.waitForSelector('#main .hero, #main .box', { timeout: 15000 });
		return page.title();
	});
	await installChecks(page, cdp);
	await a11yChecks(page);
	if (opt.scenario === 'lab')
		await labChecks(context, page);
	await offlineCheck(context, page, true);
	await check('console_clean', async () => {
		const bad = consoleLog.filter((c) => !(EXPECTED[c.phase] && EXPECTED[c.phase].test(c.text)));

		assert(!bad.length, JSON.stringify(bad));
		return `${consoleLog.length} expected messages, none else`;
	});
} catch (e) {
	checks.driver = { ok: false, detail: String(e && e.stack || e) };
} finally {
	await context?.close();
	rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify({ checks, console: consoleLog }));
