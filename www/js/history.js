// History: per member, latency, loss and score over 15 min, 6 h or 7 days
// (/api/history), with the switches of that time marked. Refreshed while shown.
import * as api from './api.js';
import * as store from './store.js';
import { h, clear, segmented, fmtMs, fmtPct, fmtNum } from './ui.js';
import { loadUplot, plot, columns, chartBox, switchMarks, RANGES, REFRESH_S } from './chart.js';

const SPEC = {
	series: [
		{ label: 'latency (ms)', color: '--c1', scale: 'ms', field: 'latency_ms' },
		{ label: 'loss (%)', color: '--c2', scale: 'pct', field: 'loss_pct' },
		{ label: 'score', color: '--c3', scale: 'pct', field: 'score', digits: 0 },
	],
	scales: { ms: {}, pct: { min: 0, max: 100 } },
	axes: [{ scale: 'ms', label: 'ms' }, { scale: 'pct', side: 1, label: '%' }],
};

function mean(ys) {
	const v = ys.filter((y) => y !== null);

	return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

export default function history(main) {
	let range = RANGES[0][0];
	let timer = null;
	let plots = [];
	let gen = 0;
	const grid = h('div', { class: 'charts', id: 'charts' });
	const msg = h('p', { class: 'msg', role: 'status' });
	const dark = matchMedia('(prefers-color-scheme: dark)');

	main.append(
		h('div', { class: 'row spread' },
			h('h1', {}, 'History'),
			segmented('Time range', RANGES, range, (r) => {
				range = r;
				load();
			})),
		h('p', { class: 'muted small' }, 'Dashed lines mark switches between uplinks.'),
		msg, grid);

	function drop() {
		plots.forEach((p) => p.destroy());
		plots = [];
	}

	async function load() {
		const my = ++gen;

		clearTimeout(timer);
		timer = setTimeout(load, REFRESH_S[range] * 1000);
		const names = store.memberNames();

		if (!names.length) {
			msg.textContent = store.state.stale ? 'No history offline.' : 'Waiting for autonomyd…';
			return;
		}
		let U, results;

		try {
			[U, results] = await Promise.all([loadUplot(), Promise.allSettled(
				names.map((name) => api.get('history', { name, since_s: range })))]);
		} catch (e) {
			msg.textContent = e.message;
			msg.className = 'msg err';
			return;
		}
		if (my !== gen)
			return;
		msg.textContent = '';
		drop();
		clear(grid);
		const to = Date.now() / 1000;
		const from = to - range;
		const marks = switchMarks(store.state.events, from);

		names.forEach((name, i) => {
			const { box, el, summary } = chartBox('hist-' + name, name);
			const r = results[i];

			grid.append(box);
			if (r.status === 'rejected') {
				el.append(h('p', { class: 'empty' }, r.reason.message));
				return;
			}
			const data = columns(r.value, SPEC.series.map((s) => s.field));
			const n = r.value.count;

			box.dataset.points = n;
			box.dataset.switches = marks.length;
			box.dataset.resolution = r.value.resolution;
			if (!n) {
				el.append(h('p', { class: 'empty' }, 'Nothing recorded in this time yet.'));
				return;
			}
			plots.push(plot(U, el, SPEC, data, marks, [from, to]));
			summary.textContent = `${name} over the last ${RANGES.find((x) => x[0] === range)[1]}, ` +
				`${n} points at ${r.value.resolution} resolution: average latency ` +
				`${fmtMs(mean(data[1]))}, loss ${fmtPct(mean(data[2]))}, score ` +
				`${fmtNum(mean(data[3]), 0)}; ${marks.length} switches.`;
		});
	}

	const redraw = () => load();
	dark.addEventListener('change', redraw);
	const off = store.on((kind, ev) => {
		if ((kind === 'status' && !plots.length && !grid.children.length) ||
		    (kind === 'event' && ev.type === 'switch'))
			load();
	});
	load();
	return {
		destroy() {
			gen++;
			clearTimeout(timer);
			off();
			dark.removeEventListener('change', redraw);
			drop();
		},
	};
}
