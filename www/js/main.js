// The dashboard's entry: the pages behind #/NAME, the connection indicator, the
// failover and offline banners, the sign-in dialog and the service worker.
import * as api from './api.js';
import * as store from './store.js';
import { h, clear, fmtTime, ago } from './ui.js';
import overview from './overview.js';
import history from './history.js';
import events from './events.js';
import settings from './settings.js';
import system from './system.js';

const pages = {
	overview: ['Overview', overview],
	history: ['History', history],
	events: ['Events', events],
	settings: ['Settings', settings],
	system: ['System', system],
};
const main = document.getElementById('main');
const banners = document.getElementById('banners');
const conn = document.getElementById('conn');
let current = null;
let signingIn = null;

// ---- sign-in ---------------------------------------------------------------------

// Asks for the token; resolves true once the daemon accepted it. The token is checked
// with a read: the daemon refuses a wrong one even where reads need none.
function login(why) {
	if (signingIn)
		return signingIn;
	signingIn = new Promise((resolve) => {
		const err = h('p', { class: 'msg err', id: 'login-error', role: 'alert' });
		const input = h('input', {
			type: 'password', id: 'login-token', name: 'token', autocomplete: 'current-password',
			'aria-describedby': 'login-why login-error', spellcheck: 'false',
		});
		const dlg = h('dialog', { class: 'login', 'aria-labelledby': 'login-title' },
			h('h2', { id: 'login-title' }, 'Sign in'),
			h('p', { id: 'login-why' }, why),
			h('form', { onsubmit: (e) => submit(e, dlg, input, err) },
				h('label', { for: 'login-token' }, 'HTTP token (http_token)'),
				input, err,
				h('div', { class: 'row' },
					h('button', { type: 'button', onclick: () => dlg.close('cancel') }, 'Cancel'),
					h('button', { type: 'submit', class: 'primary' }, 'Sign in'))));
		dlg.addEventListener('close', () => {
			const ok = dlg.returnValue === 'ok';

			dlg.remove();
			signingIn = null;
			resolve(ok);
			if (ok)
				store.restart();
		});
		document.body.append(dlg);
		dlg.showModal();
		input.focus();
	});
	return signingIn;
}

async function submit(e, dlg, input, err) {
	e.preventDefault();
	const tok = input.value.trim();

	if (!tok) {
		err.textContent = 'Enter the token.';
		return;
	}
	try {
		await api.get('status', {}, { token: tok });
		api.setToken(tok);
		dlg.close('ok');
	} catch (ex) {
		input.setAttribute('aria-invalid', 'true');
		err.textContent = ex.status === 401 ?
			'Wrong token: autonomyd refused it. It is http_token in the router\'s configuration.' :
			ex.message;
		input.select();
	}
}

export function logout() {
	api.setToken('');
	store.restart();
}

// Runs a write; when the daemon wants the token, asks for it and tries once more.
async function withAuth(fn) {
	try {
		return await fn();
	} catch (e) {
		if (e.status !== 401)
			throw e;
		const why = api.token() ? 'autonomyd refused the token; sign in again.' :
			'Changes need the HTTP token of autonomyd.';
		if (!(await login(why)))
			throw e;
		return fn();
	}
}

const ctx = { withAuth, login, logout };

// ---- banners -----------------------------------------------------------------------

function banner(id, cls, role, ...content) {
	let b = document.getElementById(id);

	if (!b) {
		b = h('div', { id, role });
		banners.append(b);
	}
	b.className = 'banner ' + cls;
	clear(b).append(...content);
	return b;
}

function dropBanner(id) {
	document.getElementById(id)?.remove();
}

const RECENT_MS = 15 * 60 * 1000;
const DISMISSED_KEY = 'autonomy.dismissed';

function showSwitch(ev) {
	const failback = ev.reason === 'failback';
	const dismiss = () => {
		sessionStorage.setItem(DISMISSED_KEY, ev.ts);
		dropBanner('switch-banner');
	};

	banner('switch-banner', failback ? 'failback' : 'switch', 'alert',
		h('p', {},
			h('strong', {}, store.switchTitle(ev)), ': ',
			`${ev.from ?? 'none'} → ${ev.to ?? 'none'} (${ev.reason}) at ${fmtTime(ev.ts)}`),
		h('button', { type: 'button', class: 'icon', 'aria-label': 'Dismiss', onclick: dismiss }, '✕'));
}

// A switch in the last 15 minutes is shown when the dashboard opens, until dismissed.
function showRecentSwitch() {
	const ev = store.lastSwitch();

	if (!ev || ev.reason === 'initial' || store.state.stale ||
	    Date.now() - Date.parse(ev.ts) > RECENT_MS ||
	    sessionStorage.getItem(DISMISSED_KEY) === ev.ts ||
	    document.getElementById('switch-banner'))
		return;
	showSwitch(ev);
}

function showConn() {
	const { live, stale, savedAt, error } = store.state;

	conn.className = 'conn ' + (live ? 'live' : stale ? 'stale' : error ? 'error' : '');
	conn.textContent = live ? 'live' : stale ? 'offline' : error ? 'error' : 'connecting…';
	document.body.classList.toggle('stale', stale);
	if (stale && savedAt) {
		banner('stale-banner', 'stale', 'status', h('p', {},
			h('strong', {}, 'Offline. '),
			`This is the last known state, from ${fmtTime(savedAt)} (${ago(savedAt)}); it is not live.`));
	} else if (stale) {
		banner('stale-banner', 'stale', 'status', h('p', {},
			h('strong', {}, 'Offline. '), 'autonomyd cannot be reached and no earlier state is saved here.'));
	} else {
		dropBanner('stale-banner');
	}
	if (error && error.status !== 401 && !stale && !live)
		banner('error-banner', 'error', 'status', h('p', {}, error.message));
	else
		dropBanner('error-banner');
}

function needToken() {
	const why = api.token() ? 'autonomyd refused the token of this session (was it changed?); ' +
		'sign in again.' : 'autonomyd needs its HTTP token to show anything here.';

	clear(main).append(h('section', { class: 'box' },
		h('h1', {}, 'Sign in'), h('p', {}, why),
		h('button', { type: 'button', class: 'primary', onclick: () => login(why) }, 'Sign in')));
	current = null;
	login(why);
}

// ---- pages -------------------------------------------------------------------------

function route(focus) {
	const m = /^#\/(\w+)/.exec(location.hash);
	const name = m && pages[m[1]] ? m[1] : 'overview';
	const [title, mount] = pages[name];

	if (current?.name === name)
		return;
	current?.view?.destroy?.();
	for (const a of document.querySelectorAll('.tabs a')) {
		if (a.dataset.page === name)
			a.setAttribute('aria-current', 'page');
		else
			a.removeAttribute('aria-current');
	}
	document.title = `${title} · autonomy`;
	clear(main);
	current = { name, view: mount(main, ctx) };
	if (focus)
		main.focus();
}

function registerWorker() {
	/* Service workers need a secure context: https, or http://localhost and
	 * 127.0.0.1. Elsewhere the dashboard works, but not offline. */
	if (!('serviceWorker' in navigator) || !window.isSecureContext)
		return;
	navigator.serviceWorker.register('sw.js').catch((e) => {
		console.warn('autonomy: no offline copy:', e.message);
	});
}

store.on((kind, data) => {
	if (kind === 'switch')
		showSwitch(data);
	else if (kind === 'events')
		showRecentSwitch();
	else if (kind === 'conn')
		showConn();
	else if (kind === 'auth')
		needToken();
	else if (kind === 'status' && !current)
		route(false);
});
window.addEventListener('hashchange', () => route(true));
setInterval(showConn, 10000);
route(false);
showConn();
registerWorker();
store.start();
