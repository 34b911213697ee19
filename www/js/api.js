// The daemon's HTTP API (docs/API.md): reads are GET /api/METHOD?query, writes POST
// a JSON body. The token, once given, lives in sessionStorage and goes with every
// request as "Authorization: Bearer". Every failure becomes an ApiError.

const TOKEN_KEY = 'autonomy.token';

export class ApiError extends Error {
	// status: the HTTP status, 0 when the daemon could not be reached.
	constructor(status, code, message, field) {
		super(message);
		this.status = status;
		this.code = code;
		this.field = field || null;
	}
}

export function token() {
	try {
		return sessionStorage.getItem(TOKEN_KEY) || '';
	} catch {
		return '';
	}
}

export function setToken(t) {
	if (t)
		sessionStorage.setItem(TOKEN_KEY, t);
	else
		sessionStorage.removeItem(TOKEN_KEY);
}

function headers(tok) {
	const h = { Accept: 'application/json' };

	if (tok)
		h.Authorization = 'Bearer ' + tok;
	return h;
}

async function send(url, init) {
	let res, body = null;

	try {
		res = await fetch(url, init);
	} catch (e) {
		throw new ApiError(0, 'offline', 'cannot reach autonomyd (' + e.message + ')');
	}
	try {
		body = await res.json();
	} catch {
		body = null;
	}
	if (!res.ok || (body && body.error)) {
		const e = (body && body.error) || {};

		throw new ApiError(res.status, e.code || 'http_' + res.status,
			e.message || `HTTP ${res.status} ${res.statusText}`, e.field);
	}
	return body;
}

// A read method; params become the query string. opts.token overrides the stored one.
export function get(method, params = {}, opts = {}) {
	const q = new URLSearchParams();

	for (const [k, v] of Object.entries(params))
		if (v !== undefined && v !== null)
			q.set(k, String(v));
	const qs = q.toString();
	return send(`api/${method}${qs ? '?' + qs : ''}`, {
		headers: headers(opts.token ?? token()),
		cache: 'no-store',
		signal: opts.signal,
	});
}

// A write (action, config.set): needs the token.
export function post(method, params = {}) {
	return send(`api/${method}`, {
		method: 'POST',
		headers: { ...headers(token()), 'Content-Type': 'application/json' },
		body: JSON.stringify(params),
		cache: 'no-store',
	});
}

// The event stream's URL: EventSource cannot send headers, so the token goes in the query.
export function streamUrl(samples = true) {
	const q = new URLSearchParams();
	const tok = token();

	if (!samples)
		q.set('samples', '0');
	if (tok)
		q.set('access_token', tok);
	const qs = q.toString();
	return 'api/events/stream' + (qs ? '?' + qs : '');
}
