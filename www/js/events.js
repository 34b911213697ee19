// Events: the decision log (newest first) with reasons, filtered by member and type;
// new entries arrive over the event stream.
import * as store from './store.js';
import { h, clear, fmtTime } from './ui.js';

const TYPES = ['switch', 'member', 'action', 'daemon', 'config', 'log'];

function select(id, label, options, onchange) {
	return h('div', { class: 'row' },
		h('label', { for: id }, label),
		h('select', { id, onchange },
			h('option', { value: '' }, 'all'),
			options.map((o) => h('option', { value: o }, o))));
}

function matches(ev, member, type) {
	return (!type || ev.type === type) && (!member || ev.from === member || ev.to === member);
}

function row(ev) {
	const who = ev.type === 'switch' ? `${ev.from ?? 'none'} → ${ev.to ?? 'none'}` :
		[ev.from, ev.to].filter(Boolean).join(' → ');

	return h('tr', { class: ev.type },
		h('td', { class: 'when' }, h('time', { datetime: ev.ts }, fmtTime(ev.ts))),
		h('td', { class: 'type' }, ev.type),
		h('td', {}, ev.reason ?? ''),
		h('td', {}, who),
		h('td', { class: 'msg-cell' }, ev.message ?? ''));
}

export default function events(main) {
	const body = h('tbody', {});
	const count = h('p', { class: 'muted small', role: 'status', id: 'event-count' });
	let member = '';
	let type = '';
	const memberSel = select('f-member', 'Member', store.memberNames(), (e) => {
		member = e.target.value;
		draw();
	});

	main.append(
		h('h1', {}, 'Events'),
		h('div', { class: 'row box', role: 'search', 'aria-label': 'Filter events' },
			memberSel,
			select('f-type', 'Type', TYPES, (e) => {
				type = e.target.value;
				draw();
			})),
		count,
		h('table', { class: 'events', id: 'events' },
			h('caption', { class: 'sr-only' }, 'The event log, newest first'),
			h('thead', {}, h('tr', {},
				['Time', 'Type', 'Reason', 'Uplinks', 'Message'].map((t) => h('th', { scope: 'col' }, t)))),
			body));

	// Members may appear after the page (the first status).
	function syncMembers() {
		const sel = memberSel.querySelector('select');
		const have = new Set([...sel.options].map((o) => o.value));

		for (const name of store.memberNames())
			if (!have.has(name))
				sel.append(h('option', { value: name }, name));
	}

	function draw() {
		const list = store.state.events.filter((ev) => matches(ev, member, type));

		clear(body).append(...list.map(row));
		count.textContent = `${list.length} of ${store.state.events.length} events`;
	}

	const off = store.on((kind, ev) => {
		if (kind === 'event') {
			if (matches(ev, member, type))
				body.prepend(row(ev));
			count.textContent = `${body.children.length} of ${store.state.events.length} events`;
		} else if (kind === 'events') {
			draw();
		} else if (kind === 'status') {
			syncMembers();
		}
	});
	draw();
	return { destroy: off };
}
