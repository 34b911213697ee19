// The service worker: keeps the app shell (every file of the dashboard) so it opens
// without the router, where it shows the last known state marked stale. Files come
// from the network first (the daemon answers "no-cache" with an ETag, so an upgraded
// dashboard is picked up at once) and from the cache when the network fails. The API
// is never cached here: the page keeps its own last state.
//
// `make www` fills in VERSION (a hash of the files) and SHELL (their paths).
const VERSION = '__VERSION__';
const SHELL = ['./', /* __SHELL__ */];
const CACHE = 'autonomy-' + VERSION;
const TIMEOUT_MS = 4000;

self.addEventListener('install', (e) => {
	e.waitUntil(caches.open(CACHE)
		.then((c) => c.addAll(SHELL.map((p) => new Request(p, { cache: 'no-cache' }))))
		.then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
	e.waitUntil(caches.keys()
		.then((keys) => Promise.all(keys.filter((k) => k.startsWith('autonomy-') && k !== CACHE)
			.map((k) => caches.delete(k))))
		.then(() => self.clients.claim()));
});

function local(url) {
	const scope = new URL(self.registration.scope);

	if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname))
		return null;
	return url.pathname.slice(scope.pathname.length);
}

// The network, unless it fails or hangs; then the cached copy.
async function networkFirst(req, path) {
	const cache = await caches.open(CACHE);
	const fallback = () => cache.match(req.mode === 'navigate' ? './' : req, { ignoreSearch: true });
	const net = fetch(req).then((res) => {
		if (res.ok && (req.mode === 'navigate' || SHELL.includes(path)))
			cache.put(req.mode === 'navigate' ? './' : req, res.clone());
		return res;
	});
	/* A late failure, after the cache has answered, needs no handling. */
	net.catch(() => {});
	const timeout = new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS));

	try {
		const res = await Promise.race([net, timeout.then(fallback)]);

		if (res)
			return res;
		return await net;
	} catch (err) {
		const hit = await fallback();

		if (hit)
			return hit;
		throw err;
	}
}

self.addEventListener('fetch', (e) => {
	const url = new URL(e.request.url);
	const path = local(url);

	if (e.request.method !== 'GET' || path === null)
		return;
	if (path.startsWith('api/') || path === 'metrics' || path === 'healthz')
		return;
	e.respondWith(networkFirst(e.request, path));
});

// A tap on a failover notification opens (or focuses) the dashboard.
self.addEventListener('notificationclick', (e) => {
	e.notification.close();
	e.waitUntil(self.clients.matchAll({ type: 'window' }).then((list) => {
		const open = list.find((c) => local(new URL(c.url)) !== null);

		return open ? open.focus() : self.clients.openWindow('./#/overview');
	}));
});
