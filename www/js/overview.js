// Overview: the active uplink and why, and a card per member (status, score, latency,
// loss, jitter and its class line). Redrawn from the live state; a card is replaced
// only when what it shows changed, so focus and screen readers are not disturbed.
import * as store from './store.js';
import { h, clear, fmtMs, fmtPct, fmtNum, fmtTime, fmtDuration, statusBadge } from './ui.js';

const STATE_WHY = {
	starting: 'Choosing the first uplink…',
	normal: 'The preferred uplink (highest weight) is healthy and carries the traffic.',
	failover: 'A backup uplink carries the traffic.',
	manual: 'Held here by a manual failover until it is restored.',
	'all-down': 'No uplink is up: the last choice is kept.',
};

function warn(text) {
	return h('span', { class: 'warn' }, text);
}

function joinParts(parts) {
	const out = [];

	for (const p of parts.filter(Boolean)) {
		if (out.length)
			out.push(' · ');
		out.push(p);
	}
	return out;
}

function starlinkLine(sl) {
	if (!sl.reachable)
		return [warn('Dish unreachable'), sl.error ? ` (${sl.error})` : ''];
	const outage = sl.outage && (typeof sl.outage === 'string' ? sl.outage : sl.outage.cause);
	const alerts = sl.alerts || [];

	return joinParts([
		'Dish reachable',
		outage ? warn(`outage ${outage}`) : 'no outage',
		sl.obstruction_pct !== undefined && sl.obstruction_pct !== null &&
			`obstruction ${fmtPct(sl.obstruction_pct)}` +
			(sl.currently_obstructed ? ' (obstructed now)' : ''),
		sl.pop_latency_ms !== undefined && sl.pop_latency_ms !== null &&
			`PoP ${fmtMs(sl.pop_latency_ms)}`,
		sl.risk && warn(`risk ${sl.risk}${sl.risk_reason ? ': ' + sl.risk_reason : ''}`),
		alerts.length && warn(`alerts: ${alerts.join(', ')}`),
	]);
}

function dbm(v, unit, digits = 0) {
	return v === null || v === undefined ? null : `${fmtNum(v, digits)} ${unit}`;
}

function cellularLine(c) {
	if (!c.tech || c.tech === 'unknown')
		return [warn('Radio unknown'), c.error ? ` (${c.error})` : ''];
	return joinParts([
		`Radio ${c.tech.toUpperCase()}`,
		c.rsrp_dbm !== null && `RSRP ${dbm(c.rsrp_dbm, 'dBm')}`,
		c.sinr_db !== null && `SINR ${dbm(c.sinr_db, 'dB', 1)}`,
		c.operator,
		c.roaming === true ? warn('roaming') : c.roaming === false && 'home network',
		c.risk && warn(`risk ${c.risk}`),
	]);
}

function wifiLine(w) {
	if (!w.connected)
		return [warn('Wi-Fi not connected'), w.error ? ` (${w.error})` : ''];
	return joinParts([
		`Wi-Fi ${w.ssid || ''}`.trim(),
		w.signal_dbm !== null && `signal ${dbm(w.signal_dbm, 'dBm')}`,
		w.tx_bitrate_kbps && `${fmtNum(w.tx_bitrate_kbps / 1000)} Mbit/s`,
		w.risk && warn(`risk ${w.risk}`),
	]);
}

function classLine(m) {
	if (m.starlink)
		return starlinkLine(m.starlink);
	if (m.cellular)
		return cellularLine(m.cellular);
	if (m.wifi)
		return wifiLine(m.wifi);
	return null;
}

function note(m) {
	if (m.enabled === false)
		return 'disabled in the configuration';
	if (m.status === 'down')
		return `down${m.down_cause ? ': ' + m.down_cause : ''}` +
			(m.status_since ? ` since ${fmtTime(m.status_since)}` : '');
	if (m.eligible === false) {
		if (m.dampening?.suppressed)
			return 'not eligible: suppressed by flap dampening';
		if (m.risk)
			return `not eligible: at risk (${m.risk})`;
		if (m.status_since)
			return `not eligible yet: up for ${fmtDuration((Date.now() - Date.parse(m.status_since)) / 1000)}`;
		return 'not eligible now';
	}
	return null;
}

function stat(label, value) {
	return h('div', {}, h('dt', {}, label), h('dd', {}, value));
}

function card(m, active) {
	const id = `card-${m.name}`;
	const meta = [m.class, m.device, `weight ${m.weight}`, m.metered && 'metered'];
	const cl = classLine(m);
	const n = note(m);

	return h('article', {
		class: 'card' + (active ? ' active' : ''), id, 'data-member': m.name,
		'data-status': m.status, 'aria-labelledby': id + '-name',
	},
	h('header', {},
		h('h2', { id: id + '-name' }, m.name),
		active && h('span', { class: 'tag' }, 'active'),
		statusBadge(m.status)),
	h('p', { class: 'meta' }, meta.filter(Boolean).join(' · ')),
	h('dl', { class: 'stats' },
		stat('Score', fmtNum(m.score?.final, 0)),
		stat('Latency', fmtMs(m.latency_ms)),
		stat('Loss', fmtPct(m.loss_pct)),
		stat('Jitter', fmtMs(m.jitter_ms))),
	cl && h('p', { class: 'classline' }, cl),
	n && h('p', { class: 'note' }, n));
}

function hero(st) {
	if (!st)
		return [h('p', { class: 'label' }, 'Active uplink'),
			h('p', { class: 'active-name', id: 'active' }, '…'),
			h('p', { class: 'why muted' }, store.state.stale ?
				'autonomyd cannot be reached.' : 'Waiting for autonomyd…')];
	const sw = store.lastSwitch();
	const since = st.active_since ? Date.parse(st.active_since) : null;

	return [
		h('p', { class: 'label', id: 'active-label' }, 'Active uplink'),
		h('p', { class: 'active-name', id: 'active' }, st.active ?? 'none'),
		h('span', { class: 'badge', id: 'state' }, st.state),
		h('p', { class: 'why', id: 'why' }, STATE_WHY[st.state] || st.state,
			sw && st.state !== 'starting' ? ` Last switch: ${store.switchTitle(sw)} at ` +
				`${fmtTime(sw.ts)}, because ${store.reasonText(sw)}.` : ''),
		h('p', { class: 'muted small' },
			since ? `Active since ${fmtTime(st.active_since)} (${fmtDuration((Date.now() - since) / 1000)}) · ` : '',
			`controller ${st.controller}`,
			st.config?.error ? ` · configuration not reloaded: ${st.config.error}` : ''),
	];
}

export default function overview(main) {
	const top = h('section', { class: 'box hero', 'aria-labelledby': 'active-label' });
	const cards = h('div', { class: 'cards', id: 'cards' });
	const shown = new Map();
	let heroSig = null;

	main.append(h('h1', { class: 'sr-only' }, 'Overview'), top,
		h('h2', { class: 'sr-only' }, 'Uplinks'), cards);

	function draw() {
		const st = store.state.status;
		const sig = JSON.stringify([st && { ...st, members: null, uptime_s: null },
			store.lastSwitch(), store.state.stale, Math.floor(Date.now() / 10000)]);

		main.classList.toggle('stale-view', store.state.stale);
		if (sig !== heroSig) {
			heroSig = sig;
			clear(top).append(...hero(st));
		}
		const list = store.memberList();
		const names = new Set(list.map((m) => m.name));

		for (const [name, [, el]] of shown) {
			if (!names.has(name)) {
				el.remove();
				shown.delete(name);
			}
		}
		list.forEach((m, i) => {
			const el = card(m, st.active === m.name);
			const key = el.outerHTML;
			const old = shown.get(m.name);

			if (old && old[0] === key && cards.children[i] === old[1])
				return;
			if (old)
				old[1].replaceWith(el);
			if (cards.children[i] !== el)
				cards.insertBefore(el, cards.children[i] || null);
			shown.set(m.name, [key, el]);
		});
		if (!list.length && st)
			clear(cards).append(h('p', { class: 'muted' }, 'No members are configured.'));
	}

	const off = store.on((kind) => {
		if (kind !== 'event')
			draw();
	});
	draw();
	return { destroy: off };
}
