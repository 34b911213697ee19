// System: the daemon's and the router's CPU and memory over time
// (/api/history?name=system), what `info` says now, version and build features.
import * as api from './api.js';
import { h, clear, segmented, fmtNum, fmtBytes, fmtDuration, fmtTime } from './ui.js';
import { loadUplot, plot, columns, chartBox, RANGES, REFRESH_S } from './chart.js';

const CPU = {
	series: [
		{ label: 'autonomyd (% of one core)', color: '--c1', scale: 'pct', field: 'cpu_pct', digits: 2 },
		{ label: 'router (% of all cores)', color: '--c2', scale: 'pct', field: 'sys_cpu_pct' },
	],
	scales: { pct: {} },
	axes: [{ scale: 'pct', label: '%' }],
};

const MEM = {
	series: [
		{ label: 'autonomyd RSS (MiB)', color: '--c1', scale: 'rss', digits: 2,
			field: (p, f) => (p[f.indexOf('rss_kb')] ?? null) / 1024 || null },
		{ label: 'router available (MiB)', color: '--c4', scale: 'avail', digits: 0,
			field: 'sys_mem_available_mb' },
	],
	scales: { rss: {}, avail: {} },
	axes: [{ scale: 'rss', label: 'MiB' }, { scale: 'avail', side: 1, label: 'MiB' }],
};

const AUTH = {
	'read-only': 'read-only (no token)',
	writes: 'changes need the token',
	all: 'every request needs the token',
};

function kv(pairs) {
	return h('dl', { class: 'kv' }, pairs.filter(Boolean).map(([k, v]) =>
		[h('dt', {}, k), h('dd', {}, v ?? '–')]));
}

function infoBoxes(info) {
	const r = info.resources || {};
	const sys = r.system || {};
	const hist = info.history || {};
	const b = info.build || {};

	return [
		h('section', { class: 'box', id: 'sys-daemon' }, h('h2', {}, 'autonomyd'), kv([
			['version', info.version],
			['build', `${b.git ?? '?'}, ${b.date ?? '?'}, ${b.compiler ?? '?'}`],
			['features', (info.features || []).join(', ')],
			['pid', info.pid],
			['running for', `${fmtDuration(info.uptime_s)} (since ${fmtTime(info.started)})`],
			['memory (RSS)', fmtBytes((r.rss_kb ?? info.rss_kb) * 1024)],
			['CPU now', `${fmtNum(r.cpu_pct, 2)} % of one core`],
			['CPU since start', `${fmtNum(r.cpu_s, 1)} s`],
			['wake-ups', `${fmtNum(r.wakeups_per_s, 0)} per second`],
			['log level', info.log_level],
			['configuration', info.config_path],
		])),
		h('section', { class: 'box', id: 'sys-router' }, h('h2', {}, 'Router'), kv([
			['CPU now', `${fmtNum(sys.cpu_pct, 1)} %`],
			['memory available', `${fmtBytes(sys.mem_available_kb * 1024)} of ` +
				`${fmtBytes(sys.mem_total_kb * 1024)}`],
			['load', [sys.load1, sys.load5, sys.load15].map((v) => fmtNum(v, 2)).join(' / ')],
		])),
		h('section', { class: 'box', id: 'sys-services' }, h('h2', {}, 'Services'), kv([
			['HTTP', info.http && `${info.http.state}` +
				(info.http.listen ? ` on ${info.http.listen}:${info.http.port}` : '') +
				`, ${AUTH[info.http.auth] ?? info.http.auth}, ${info.http.streams} event streams`],
			['MQTT', info.mqtt && info.mqtt.state + (info.mqtt.host ?
				` (${info.mqtt.host}:${info.mqtt.port}, ${info.mqtt.published} published)` : '')],
			['history', hist.used_bytes !== undefined &&
				`${fmtBytes(hist.used_bytes)} of ${hist.max_ram_kb} KiB; spans ` +
				Object.entries(hist.span_s || {}).map(([k, v]) => `${k} ${fmtDuration(v)}`).join(', ')],
		])),
	];
}

export default function system(main) {
	let range = RANGES[0][0];
	let plots = [];
	let timer = null;
	let infoTimer = null;
	let gen = 0;
	const boxes = h('div', { class: 'sysgrid', id: 'sysinfo' }, h('p', { class: 'muted' }, 'Loading…'));
	const cpu = chartBox('sys-cpu', 'CPU');
	const mem = chartBox('sys-mem', 'Memory');
	const msg = h('p', { class: 'msg', role: 'status' });
	const dark = matchMedia('(prefers-color-scheme: dark)');

	main.append(h('h1', {}, 'System'), boxes,
		h('div', { class: 'row spread' }, h('h2', {}, 'Over time'),
			segmented('Time range', RANGES, range, (r) => {
				range = r;
				charts();
			})),
		msg, h('div', { class: 'charts' }, cpu.box, mem.box));

	async function info() {
		clearTimeout(infoTimer);
		infoTimer = setTimeout(info, 5000);
		try {
			const i = await api.get('info');

			clear(boxes).append(...infoBoxes(i));
		} catch (e) {
			clear(boxes).append(h('p', { class: 'msg err' }, e.message));
		}
	}

	async function charts() {
		const my = ++gen;

		clearTimeout(timer);
		timer = setTimeout(charts, REFRESH_S[range] * 1000);
		let U, hist;

		try {
			[U, hist] = await Promise.all([loadUplot(),
				api.get('history', { name: 'system', since_s: range })]);
		} catch (e) {
			msg.className = 'msg err';
			msg.textContent = e.message;
			return;
		}
		if (my !== gen)
			return;
		msg.textContent = '';
		plots.forEach((p) => p.destroy());
		plots = [];
		const to = Date.now() / 1000;
		const span = [to - range, to];

		for (const [c, spec] of [[cpu, CPU], [mem, MEM]]) {
			c.box.dataset.points = hist.count;
			if (!hist.count) {
				clear(c.el).append(h('p', { class: 'empty' }, 'Nothing recorded in this time yet.'));
				continue;
			}
			const data = columns(hist, spec.series.map((s) => s.field));

			plots.push(plot(U, c.el, spec, data, [], span));
			c.summary.textContent = `${spec.series.map((s) => s.label).join(' and ')}: ` +
				`${hist.count} points at ${hist.resolution} resolution.`;
		}
	}

	const redraw = () => charts();
	dark.addEventListener('change', redraw);
	info();
	charts();
	return {
		destroy() {
			gen++;
			clearTimeout(timer);
			clearTimeout(infoTimer);
			dark.removeEventListener('change', redraw);
			plots.forEach((p) => p.destroy());
		},
	};
}
