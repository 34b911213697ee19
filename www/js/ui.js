// Small DOM and formatting helpers shared by the pages. Text from the daemon is only
// ever set as text (never parsed as HTML).

// h('p', {class: 'x', onclick: fn}, 'text', child…): an element.
export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);

	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false)
			continue;
		if (k.startsWith('on') && typeof v === 'function')
			el.addEventListener(k.slice(2), v);
		else if (k === 'class')
			el.className = v;
		else if (k === 'value' || k === 'checked')
			el[k] = v;
		else
			el.setAttribute(k, v === true ? '' : String(v));
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === undefined || c === null || c === false)
			continue;
		if (Array.isArray(c))
			append(el, c);
		else
			el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
}

export function clear(el) {
	el.replaceChildren();
	return el;
}

export function fmtNum(v, digits = 1, unit = '') {
	if (v === null || v === undefined || Number.isNaN(v))
		return '–';
	return Number(v).toFixed(digits) + unit;
}

export function fmtMs(v) {
	if (v === null || v === undefined)
		return '–';
	return (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + ' ms';
}

export function fmtPct(v) {
	if (v === null || v === undefined)
		return '–';
	return (v >= 10 || v === 0 ? v.toFixed(0) : v.toFixed(1)) + ' %';
}

export function fmtBytes(n) {
	if (n === null || n === undefined)
		return '–';
	const units = ['B', 'KiB', 'MiB', 'GiB'];
	let i = 0;

	while (n >= 1024 && i < units.length - 1) {
		n /= 1024;
		i++;
	}
	return (i ? n.toFixed(1) : n) + ' ' + units[i];
}

export function fmtDuration(s) {
	if (s === null || s === undefined)
		return '–';
	s = Math.max(0, Math.round(s));
	if (s < 60)
		return s + ' s';
	if (s < 3600)
		return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
	if (s < 86400)
		return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
	return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
}

// RFC 3339 → "14:05:47", or with the date when it is not today.
export function fmtTime(ts) {
	if (!ts)
		return '–';
	const d = new Date(ts);

	if (Number.isNaN(d.getTime()))
		return String(ts);
	const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
	if (d.toDateString() === new Date().toDateString())
		return time;
	return d.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ' ' + time;
}

export function ago(ts) {
	const t = typeof ts === 'number' ? ts : Date.parse(ts);

	if (!t)
		return '';
	return fmtDuration((Date.now() - t) / 1000) + ' ago';
}

export function statusBadge(status) {
	const s = ['up', 'degraded', 'down'].includes(status) ? status : 'unknown';

	return h('span', { class: `badge st-${s}` }, s);
}

// A button group where one value is pressed (aria-pressed), e.g. the time ranges.
export function segmented(label, options, current, onpick) {
	const group = h('div', { class: 'seg', role: 'group', 'aria-label': label });

	for (const [value, text] of options) {
		group.append(h('button', {
			type: 'button',
			'aria-pressed': String(value === current),
			onclick: (e) => {
				for (const b of group.children)
					b.setAttribute('aria-pressed', String(b === e.currentTarget));
				onpick(value);
			},
		}, text));
	}
	return group;
}

// A confirmation dialog; resolves true when confirmed.
export function confirmDialog(title, text, okText = 'Confirm') {
	return new Promise((resolve) => {
		const dlg = h('dialog', { 'aria-labelledby': 'dlg-title' },
			h('h2', { id: 'dlg-title' }, title),
			h('p', {}, text),
			h('form', { method: 'dialog', class: 'row' },
				h('button', { value: 'cancel' }, 'Cancel'),
				h('button', { value: 'ok', class: 'primary' }, okText)));
		dlg.addEventListener('close', () => {
			resolve(dlg.returnValue === 'ok');
			dlg.remove();
		});
		document.body.append(dlg);
		dlg.showModal();
	});
}
