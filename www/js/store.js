// The live state every page draws from: `status` (from the event stream, every
// second), `members` (fetched at most every 2 s while status comes in), and the
// event log. The last state received is kept in localStorage, so a dashboard that
// opens offline (from the service worker's cache) shows it, marked stale.
//
// Listeners get (kind, data): 'status', 'members', 'events', 'event' (a new log
// entry), 'switch' (a switch other than the initial choice), 'conn' (live/stale
// changed), 'auth' (the daemon wants a token).
import * as api from './api.js';

const CACHE_KEY = 'autonomy.last';
const MAX_EVENTS = 1000;
const MEMBERS_EVERY_MS = 2000;
const SAVE_EVERY_MS = 5000;
const SILENT_MS = 5000;		/* no status for this long: not live */
const RETRY_MS = 5000;

export const state = {
	status: null,
	members: null,
	events: [],
	live: false,		/* the stream is open and status arrives */
	stale: false,		/* what is shown is the saved state: the daemon is unreachable */
	savedAt: null,		/* ms: when what is shown was received */
	error: null,		/* the last failure, an ApiError */
};

const subs = new Set();
let stream = null;
let retry = null;
let lastStatus = 0;
let membersAt = 0;
let membersBusy = false;
let savedAt = 0;
let reconnecting = false;

export function on(fn) {
	subs.add(fn);
	return () => subs.delete(fn);
}

function emit(kind, data) {
	for (const fn of [...subs])
		fn(kind, data);
}

// The members of status, each with the details of `members` (latency, loss, the
// whole starlink object…); status is newer, so its fields win.
export function memberList() {
	const detail = new Map((state.members || []).map((m) => [m.name, m]));

	return (state.status?.members || []).map((m) => {
		const d = detail.get(m.name) || {};
		const merged = { ...d, ...m };

		if (d.starlink && m.starlink)
			merged.starlink = { ...d.starlink, ...m.starlink };
		return merged;
	});
}

export function memberNames() {
	return (state.status?.members || []).map((m) => m.name);
}

// The newest switch event (the log is newest first), or status.last_event when it is one.
export function lastSwitch() {
	const ev = state.events.find((e) => e.type === 'switch');
	const le = state.status?.last_event;

	if (le && le.type === 'switch' && (!ev || le.ts >= ev.ts))
		return le;
	return ev || null;
}

export function switchTitle(ev) {
	if (ev.reason === 'failback')
		return `Failback to ${ev.to}`;
	if (ev.reason === 'manual')
		return `Manual failover to ${ev.to}`;
	if (ev.reason === 'initial')
		return `${ev.to} chosen`;
	return `Failover to ${ev.to ?? 'none'}`;
}

const REASONS = {
	'hard:carrier': (m) => `${m} lost its carrier`,
	'hard:address': (m) => `${m} lost its address`,
	'hard:route': (m) => `${m} lost its route`,
	'hard:device': (m) => `${m}'s device went away`,
	'hard:no-reply': (m) => `${m} stopped answering probes`,
	'hard:disabled': (m) => `${m} was disabled`,
	'soft:score': (m) => `${m}'s score fell behind`,
	'predict:obstruction': (m) => `${m}'s dish sees obstruction rising: an outage is expected`,
	'planned:swupdate': (m) => `${m}'s dish is about to reboot for a software update`,
	failback: (m, to) => `${to} is good again and preferred`,
	manual: () => 'a manual failover',
	initial: (m, to) => `${to} was the best choice at start`,
};

// Why a switch happened, in words.
export function reasonText(ev) {
	const from = ev.from ?? 'the uplink';

	if (ev.reason?.startsWith('hard:dish-outage:'))
		return `${from}'s dish reported an outage (${ev.reason.slice(17)})`;
	const f = REASONS[ev.reason];
	return f ? f(from, ev.to) : ev.reason;
}

function setConn(live, stale) {
	if (state.live === live && state.stale === stale)
		return;
	state.live = live;
	state.stale = stale;
	emit('conn');
}

function fail(e) {
	state.error = e;
	if (e.status === 401) {
		emit('auth', e);
		return;
	}
	state.live = false;
	state.stale = e.status === 0 || state.stale;
	emit('conn');
}

function save(force) {
	const now = Date.now();

	if (!force && now - savedAt < SAVE_EVERY_MS)
		return;
	savedAt = now;
	try {
		localStorage.setItem(CACHE_KEY, JSON.stringify({
			savedAt: state.savedAt, status: state.status, members: state.members,
			events: state.events.slice(0, 100),
		}));
	} catch {
		/* private mode or full: nothing to keep */
	}
}

function restore() {
	try {
		const c = JSON.parse(localStorage.getItem(CACHE_KEY) || 'null');

		if (!c || !c.status)
			return false;
		Object.assign(state, { status: c.status, members: c.members, events: c.events || [],
			savedAt: c.savedAt, stale: true, live: false });
		return true;
	} catch {
		return false;
	}
}

async function loadMembers() {
	if (membersBusy)
		return;
	membersBusy = true;
	membersAt = Date.now();
	try {
		state.members = await api.get('members');
		emit('members');
	} catch (e) {
		fail(e);
	} finally {
		membersBusy = false;
	}
}

export async function loadEvents() {
	state.events = await api.get('events', { limit: MAX_EVENTS });
	emit('events');
}

// Everything at once: at start, after a sign-in, and when the stream came back.
export async function refresh() {
	try {
		const [status, members, events] = await Promise.all([
			api.get('status'), api.get('members'), api.get('events', { limit: MAX_EVENTS }),
		]);
		Object.assign(state, { status, members, events, savedAt: Date.now(), error: null });
		membersAt = Date.now();
		setConn(state.live, false);
		save(true);
		emit('status');
		emit('members');
		emit('events');
		return true;
	} catch (e) {
		fail(e);
		return false;
	}
}

function onStatus(st) {
	state.status = st;
	state.savedAt = lastStatus = Date.now();
	state.error = null;
	setConn(true, false);
	emit('status');
	if (Date.now() - membersAt >= MEMBERS_EVERY_MS)
		loadMembers();
	save(false);
}

function onEvent(ev) {
	state.events.unshift(ev);
	if (state.events.length > MAX_EVENTS)
		state.events.length = MAX_EVENTS;
	emit('event', ev);
	if (ev.type === 'switch' && ev.reason !== 'initial') {
		emit('switch', ev);
		notify(ev);
	}
}

function parse(e) {
	try {
		return JSON.parse(e.data);
	} catch {
		return null;
	}
}

function closeStream() {
	if (stream)
		stream.close();
	stream = null;
}

function scheduleRetry() {
	clearTimeout(retry);
	retry = setTimeout(async () => {
		if (await refresh())
			openStream();
		else
			scheduleRetry();
	}, RETRY_MS);
}

export function openStream() {
	closeStream();
	clearTimeout(retry);
	const es = new EventSource(api.streamUrl());

	stream = es;
	es.addEventListener('status', (e) => {
		const st = parse(e);

		if (st)
			onStatus(st);
	});
	es.addEventListener('event', (e) => {
		const ev = parse(e);

		if (ev)
			onEvent(ev);
	});
	es.onopen = () => {
		/* Events written while the stream was down are only in the log. */
		if (reconnecting)
			loadEvents().catch(fail);
		reconnecting = false;
	};
	es.onerror = () => {
		reconnecting = true;
		setConn(false, state.stale);
		/* CLOSED: the server refused the stream (401, 503…); EventSource gives
		 * up, so try again, and refresh() finds out why. Otherwise it retries. */
		if (es.readyState === EventSource.CLOSED) {
			closeStream();
			scheduleRetry();
		}
	};
}

// Status stopped coming (a silent network, a suspended laptop): not live, and if the
// daemon cannot be reached at all, stale.
function watchdog() {
	if (stream && state.live && Date.now() - lastStatus > SILENT_MS) {
		setConn(false, state.stale);
		fetch('healthz', { cache: 'no-store' }).catch(() => setConn(false, true));
	}
}

export function notifySupported() {
	return 'Notification' in window && window.isSecureContext;
}

async function notify(ev) {
	if (!notifySupported() || Notification.permission !== 'granted')
		return;
	const opts = {
		body: ev.message || `${ev.from ?? 'none'} → ${ev.to} (${ev.reason})`,
		tag: 'autonomy-switch',
		icon: 'icons/icon-192.png',
		timestamp: Date.parse(ev.ts) || Date.now(),
	};
	try {
		const reg = await navigator.serviceWorker?.getRegistration();

		if (reg)
			await reg.showNotification(switchTitle(ev), opts);
		else
			new Notification(switchTitle(ev), opts);
	} catch {
		/* the permission was withdrawn meanwhile: the banner still shows it */
	}
}

export async function start() {
	if (restore()) {
		emit('status');
		emit('members');
		emit('events');
		emit('conn');
	}
	const ok = await refresh();

	if (ok)
		openStream();
	else if (state.error?.status !== 401)
		scheduleRetry();
	setInterval(watchdog, 2000);
}

// After a sign-in: everything again, with the new token.
export async function restart() {
	closeStream();
	if (await refresh())
		openStream();
	else
		scheduleRetry();
}
