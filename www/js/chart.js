// Time charts of /api/history with uPlot (vendor/, copied from npm by `make www`,
// loaded the first time a chart is drawn). Switch events are dashed vertical lines
// on the time axis. Colours come from the stylesheet, so charts follow the theme.
import { h, clear } from './ui.js';

let loading = null;

export function loadUplot() {
	if (window.uPlot)
		return Promise.resolve(window.uPlot);
	if (!loading) {
		loading = new Promise((resolve, reject) => {
			const js = h('script', { src: 'vendor/uPlot.iife.min.js' });

			js.onload = () => resolve(window.uPlot);
			js.onerror = () => {
				loading = null;
				js.remove();
				reject(new Error('cannot load the chart library (vendor/uPlot.iife.min.js)'));
			};
			document.head.append(h('link', { rel: 'stylesheet', href: 'vendor/uPlot.min.css' }), js);
		});
	}
	return loading;
}

function cssVar(name) {
	return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// History points → uPlot columns [xs, ys…]; a hole longer than 2.5 steps (the daemon
// was not running) becomes a gap in the lines.
export function columns(hist, fields) {
	const ti = hist.fields.indexOf('ts');
	const idx = fields.map((f) => (typeof f === 'function' ? f : hist.fields.indexOf(f)));
	const xs = [];
	const ys = fields.map(() => []);
	let prev = null;

	for (const p of hist.points) {
		const t = Date.parse(p[ti]) / 1000;

		if (prev !== null && t - prev > hist.step_s * 2.5) {
			xs.push(prev + hist.step_s);
			ys.forEach((y) => y.push(null));
		}
		xs.push(t);
		idx.forEach((i, k) => {
			const v = typeof i === 'function' ? i(p, hist.fields) : i >= 0 ? p[i] : null;

			ys[k].push(typeof v === 'number' ? v : null);
		});
		prev = t;
	}
	return [xs, ...ys];
}

function markers(getMarks) {
	return {
		hooks: {
			draw: (u) => {
				const { ctx } = u;
				const { left, top, width, height } = u.bbox;
				const px = window.devicePixelRatio || 1;

				ctx.save();
				ctx.strokeStyle = ctx.fillStyle = cssVar('--degraded');
				ctx.lineWidth = 1.5 * px;
				ctx.setLineDash([5 * px, 4 * px]);
				ctx.font = `${11 * px}px system-ui, sans-serif`;
				/* Labels that would overlap go one line lower. */
				const ends = [];

				for (const m of [...getMarks()].sort((a, b) => a.t - b.t)) {
					const x = Math.round(u.valToPos(m.t, 'x', true));
					const w = ctx.measureText(m.label).width;
					const lx = Math.min(x + 3 * px, left + width - w);
					let row = ends.findIndex((end) => end < lx);

					if (x < left || x > left + width)
						continue;
					ctx.beginPath();
					ctx.moveTo(x, top);
					ctx.lineTo(x, top + height);
					ctx.stroke();
					if (row < 0)
						row = ends.length;
					ends[row] = lx + w + 4 * px;
					ctx.fillText(m.label, lx, top + (12 + 13 * row) * px);
				}
				ctx.restore();
			},
		},
	};
}

// Room for the longest tick label and the axis label.
function axisSize(u, values) {
	const longest = Math.max(1, ...(values || []).map((v) => String(v).length));

	return 30 + longest * 7;
}

// A chart in `box` (its .plot element): spec = {series: [{label, color, scale,
// digits}], scales: {NAME: {min?, max?}}, axes: [{scale, side, label}]}; data from
// columns(); marks [{t (s), label}]; span [from, to] in s for the time axis.
export function plot(uPlot, el, spec, data, marks, span) {
	const text = cssVar('--muted');
	const grid = cssVar('--line');
	const scales = { x: { time: true, range: () => span } };

	for (const [name, s] of Object.entries(spec.scales)) {
		scales[name] = {
			auto: s.max === undefined,
			range: (u, min, max) => [s.min ?? 0, s.max ?? Math.max(1, max * 1.1)],
		};
	}
	const opts = {
		width: Math.max(240, el.clientWidth),
		height: 220,
		padding: [12, 8, 0, 4],
		cursor: { drag: { x: false, y: false } },
		legend: { live: true },
		scales,
		series: [{}, ...spec.series.map((s) => ({
			label: s.label,
			scale: s.scale,
			stroke: cssVar(s.color),
			width: 1.75,
			spanGaps: false,
			points: { show: false },
			value: (u, v) => (v === null || v === undefined ? '–' : v.toFixed(s.digits ?? 1)),
		}))],
		axes: [
			{ stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
			...spec.axes.map((a) => ({
				scale: a.scale, side: a.side ?? 3, label: a.label, stroke: text,
				grid: { show: a.side !== 1, stroke: grid, width: 1 }, ticks: { stroke: grid },
				size: axisSize,
			})),
		],
		plugins: [markers(() => marks)],
	};
	clear(el);
	const u = new uPlot(opts, data, el);
	const ro = new ResizeObserver(() => {
		if (el.clientWidth && Math.abs(el.clientWidth - u.width) > 2)
			u.setSize({ width: el.clientWidth, height: 220 });
	});

	ro.observe(el);
	return { u, destroy: () => { ro.disconnect(); u.destroy(); } };
}

export const RANGES = [[900, '15 min'], [21600, '6 h'], [604800, '7 days']];
export const REFRESH_S = { 900: 10, 21600: 60, 604800: 300 };

// Switch events within the window, as markers.
export function switchMarks(events, from) {
	return events.filter((e) => e.type === 'switch')
		.map((e) => ({ t: Date.parse(e.ts) / 1000, label: `→ ${e.to ?? 'none'}` }))
		.filter((m) => m.t >= from);
}

// A chart box: title, the plot, and a text summary for screen readers.
export function chartBox(id, title) {
	const summary = h('p', { class: 'sr-only', id: id + '-sum' });
	const el = h('div', { class: 'plot', role: 'img', 'aria-describedby': id + '-sum' });
	const box = h('section', { class: 'box chart', id, 'aria-labelledby': id + '-h' },
		h('h2', { id: id + '-h' }, title), el, summary);

	return { box, el, summary };
}
