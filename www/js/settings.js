// Settings: actions (failover, restore, recheck) with confirmation; the main options
// and every member as forms built from config.get {schema: true}, saved with
// config.set, the daemon's own validation message shown next to the field; and
// this browser's sign-in and notifications.
import * as api from './api.js';
import * as store from './store.js';
import { h, clear, confirmDialog } from './ui.js';

const GROUPS = [
	['General', /^(log_level|state_dir|controller|metric_base)$/],
	['Probing', /^(probe_|standby_|metered_|burst_|hard_fail)/],
	['Scoring', /^(latency_|loss_|jitter_|degraded_)/],
	['Decisions', /^(switch_margin|fail_min|restore_min|cooldown|min_uptime|dampening_)/],
	['Starlink dish', /^dish_/],
	['History', /^(max_ram_kb|history_)/],
	['MQTT', /^mqtt_/],
	['HTTP', /^http_/],
];

function shown(o, v) {
	if (o.type === 'list')
		return Array.isArray(v) ? v.join(' ') : (v ?? '');
	return v === null || v === undefined ? '' : String(v);
}

// One option: its input, and read() → the new value, or undefined when unchanged.
function makeField(sec, o, value) {
	const id = `f-${sec}-${o.option}`;
	const hintId = id + '-hint';
	const errId = id + '-err';
	const attrs = { id, name: o.option, 'aria-describedby': hintId };
	let input;

	if (o.type === 'bool') {
		input = h('input', { ...attrs, type: 'checkbox' });
	} else if (o.type === 'enum') {
		const extra = value !== undefined && value !== null && !o.choices.includes(value);
		const choices = extra ? [...o.choices, value] : o.choices;

		input = h('select', attrs, choices.map((c) => h('option', { value: c }, c)));
	} else if (o.secret) {
		input = h('input', { ...attrs, type: 'password', autocomplete: 'off' });
	} else {
		input = h('input', { ...attrs, type: 'text', spellcheck: 'false',
			inputmode: o.type === 'int' ? 'numeric' : null });
	}
	const err = h('p', { class: 'field-error', id: errId, hidden: true });
	const hint = [o.description];

	if (o.min !== undefined)
		hint.push(` (${o.min} to ${o.max})`);
	if (o.restart)
		hint.push(' Takes effect after a restart.');
	const wrap = h('div', { class: 'field' },
		h('label', { for: id }, o.option), input,
		h('p', { class: 'hint', id: hintId }, hint.join('')), err);
	const f = {
		o, wrap, input, orig: null,
		set(v) {
			f.orig = v;
			if (o.type === 'bool')
				input.checked = !!v;
			else if (!o.secret)
				input.value = shown(o, v);
			else
				input.placeholder = v ? 'set (leave empty to keep it)' : 'not set';
		},
		read() {
			if (o.type === 'bool')
				return input.checked !== !!f.orig ? input.checked : undefined;
			if (o.secret)
				return input.value ? input.value : undefined;
			if (input.value === shown(o, f.orig))
				return undefined;
			if (o.type === 'list')
				return input.value.split(/[\s,]+/).filter(Boolean);
			return input.value.trim();
		},
		error(text) {
			err.textContent = text || '';
			err.hidden = !text;
			if (text) {
				input.setAttribute('aria-invalid', 'true');
				input.setAttribute('aria-describedby', `${errId} ${hintId}`);
			} else {
				input.removeAttribute('aria-invalid');
				input.setAttribute('aria-describedby', hintId);
			}
		},
	};
	f.set(value);
	return f;
}

function groupOf(name) {
	const g = GROUPS.find(([, re]) => re.test(name));

	return g ? g[0] : 'Other';
}

// A form for one section: the main options in groups, or a member's options.
function sectionForm(ctx, sec, schema, values, open) {
	const fields = new Map();
	const msg = h('p', { class: 'msg', role: 'status', id: `msg-${sec}` });
	const form = h('form', { novalidate: true, 'data-section': sec });
	const isMain = values['.type'] === 'autonomy';
	const opts = schema.filter((o) => o.section === values['.type']);
	const groups = new Map();

	for (const o of opts) {
		const f = makeField(sec, o, values[o.option]);
		const g = isMain ? groupOf(o.option) : '';

		fields.set(`${sec}.${o.option}`, f);
		if (!groups.has(g))
			groups.set(g, []);
		groups.get(g).push(f.wrap);
	}
	for (const [g, wraps] of groups)
		form.append(g ? h('fieldset', { class: 'sub' }, h('legend', {}, g), wraps) : wraps);
	form.append(h('div', { class: 'row' },
		h('button', { type: 'submit', class: 'primary' }, `Save ${sec}`)), msg);
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		save(ctx, sec, fields, msg, form);
	});
	const title = isMain ? 'Main options' : `Member ${sec}`;

	return h('details', { class: 'group', open, 'data-section': sec },
		h('summary', {}, title), form);
}

async function save(ctx, sec, fields, msg, form) {
	const values = {};

	for (const [key, f] of fields) {
		f.error('');
		const v = f.read();

		if (v !== undefined)
			values[key] = v;
	}
	msg.className = 'msg';
	if (!Object.keys(values).length) {
		msg.textContent = 'Nothing changed.';
		return;
	}
	const button = form.querySelector('button[type=submit]');

	button.disabled = true;
	msg.textContent = 'Saving…';
	try {
		const r = await ctx.withAuth(() => api.post('config.set', { values }));
		const cfg = await api.get('config.get');

		for (const [key, f] of fields)
			f.set(cfg.values[sec]?.[key.slice(sec.length + 1)]);
		msg.className = 'msg ok';
		msg.textContent = r.changed.length ? `Saved ${r.changed.join(', ')}; autonomyd ` +
			'reloaded its configuration.' : 'Saved; nothing needed changing.';
	} catch (e) {
		const f = e.field && fields.get(e.field);

		msg.className = 'msg err';
		if (f) {
			f.error(e.message);
			f.input.focus();
			msg.textContent = 'Not saved: autonomyd refused a value (see the field above); nothing changed.';
		} else if (e.status === 403) {
			msg.textContent = 'Not saved: autonomyd takes no changes over HTTP while it has no ' +
				'http_token. Set one on the router (autonomyctl config set main.http_token=…) ' +
				'and sign in with it.';
		} else {
			msg.textContent = 'Not saved: ' + e.message;
		}
	} finally {
		button.disabled = false;
	}
}

function memberSelect(id, withAll) {
	return h('select', { id },
		withAll && h('option', { value: '' }, 'every member'),
		store.memberNames().map((n) => h('option', { value: n }, n)));
}

function actions(ctx) {
	const msg = h('p', { class: 'msg', role: 'status', id: 'action-msg' });
	const target = memberSelect('act-failover', false);
	const recheck = memberSelect('act-recheck', true);

	async function run(title, text, params) {
		if (!(await confirmDialog(title, text, title)))
			return;
		msg.className = 'msg';
		msg.textContent = 'Working…';
		try {
			const r = await ctx.withAuth(() => api.post('action', params));

			msg.className = 'msg ok';
			msg.textContent = r.message || 'Done.';
		} catch (e) {
			msg.className = 'msg err';
			msg.textContent = e.status === 403 ? 'autonomyd takes no actions over HTTP ' +
				'while it has no http_token.' : e.message;
		}
	}

	return h('section', { class: 'box', 'aria-labelledby': 'act-h' },
		h('h2', { id: 'act-h' }, 'Actions'),
		h('div', { class: 'actions' },
			h('div', { class: 'row' },
				h('label', { for: 'act-failover' }, 'Fail over to'), target,
				h('button', { type: 'button', class: 'danger', onclick: () => run('Fail over',
					`Move the traffic to ${target.value} and hold it there until you restore?`,
					{ cmd: 'failover', name: target.value }) }, 'Fail over…')),
			h('div', { class: 'row' },
				h('button', { type: 'button', onclick: () => run('Restore',
					'End the manual failover? Automatic decisions resume.', { cmd: 'restore' }) },
				'Restore…'),
				h('span', { class: 'muted small' }, 'ends a manual failover')),
			h('div', { class: 'row' },
				h('label', { for: 'act-recheck' }, 'Recheck'), recheck,
				h('button', { type: 'button', onclick: () => run('Recheck',
					`Probe ${recheck.value || 'every member'} at burst rate now?`,
					recheck.value ? { cmd: 'recheck', name: recheck.value } : { cmd: 'recheck' }) },
				'Recheck…'))),
		msg);
}

function device(ctx, redraw) {
	const signedIn = !!api.token();
	let notes;

	if (!store.notifySupported()) {
		notes = h('p', {}, 'Notifications need a secure origin: https (a reverse proxy) or ' +
			'http://localhost.');
	} else if (Notification.permission === 'granted') {
		notes = h('p', {}, 'Notifications are on: one at each failover and failback while ' +
			'the dashboard is open or installed.');
	} else if (Notification.permission === 'denied') {
		notes = h('p', {}, 'Notifications are blocked in this browser\'s site settings.');
	} else {
		notes = h('div', { class: 'row' },
			h('button', { type: 'button', id: 'notify-on', onclick: async () => {
				await Notification.requestPermission();
				redraw();
			} }, 'Notify me on failover'),
			h('span', { class: 'muted small' }, 'a system notification at each switch'));
	}
	return h('section', { class: 'box', 'aria-labelledby': 'dev-h' },
		h('h2', { id: 'dev-h' }, 'This browser'),
		h('div', { class: 'row' },
			h('p', { id: 'signin-state' }, signedIn ? 'Signed in for this browser session.' :
				'Not signed in: changes ask for the HTTP token.'),
			signedIn ?
				h('button', { type: 'button', onclick: () => { ctx.logout(); redraw(); } }, 'Sign out') :
				h('button', { type: 'button', onclick: async () => {
					await ctx.login('Sign in with the HTTP token of autonomyd (http_token).');
					redraw();
				} }, 'Sign in')),
		notes);
}

export default function settings(main, ctx) {
	const top = h('div', {});
	const forms = h('div', { id: 'config-forms' });
	const status = h('p', { class: 'msg', role: 'status' }, 'Loading the configuration…');
	let alive = true;

	function drawTop() {
		clear(top).append(device(ctx, drawTop), actions(ctx));
	}

	async function load() {
		try {
			const cfg = await api.get('config.get', { schema: true });

			if (!alive)
				return;
			status.textContent = `From ${cfg.path}. A change is checked by autonomyd, ` +
				'written to that file and applied at once.';
			status.className = 'muted small';
			const secs = Object.entries(cfg.values);

			clear(forms).append(...secs.map(([name, v], i) =>
				sectionForm(ctx, name, cfg.schema, v, i === 0)));
		} catch (e) {
			status.className = 'msg err';
			status.textContent = 'Cannot load the configuration: ' + e.message;
		}
	}

	main.append(h('h1', {}, 'Settings'), top,
		h('h2', { class: 'box-title' }, 'Configuration'), status, forms);
	drawTop();
	load();
	const off = store.on((kind) => {
		if (kind === 'members' && !top.querySelector('#act-failover option'))
			drawTop();
	});
	return { destroy() { alive = false; off(); } };
}
