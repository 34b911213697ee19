'use strict';
'require view';
'require dom';
'require poll';
'require rpc';

/*
 * Autonomy overview: the active uplink and why (state, last event), every member's
 * status and scores, and the recent events; refreshed every 5 s. Data comes from the
 * ubus object `autonomy` (autonomyctl as rpcd plugin, see docs/API.md). When autonomyd
 * is not running the plugin answers {"error": {...}}; when the plugin is missing the
 * call itself fails: both show a message instead of the data.
 */

var EVENTS_SHOWN = 15;
var POLL_S = 5;

var callStatus = rpc.declare({
	object: 'autonomy',
	method: 'status'
});

var callEvents = rpc.declare({
	object: 'autonomy',
	method: 'events',
	params: [ 'limit' ]
});

/* A failed call resolves to the same shape as the daemon's own error answer. */
function settle(promise) {
	return promise.catch(function(err) {
		return { error: { code: 'rpc', message: err && err.message ? err.message : String(err) } };
	});
}

function problem(res) {
	if (res == null || typeof res !== 'object')
		return _('No answer from the autonomy service.');
	if (res.error == null)
		return null;
	if (res.error.code === 'unavailable')
		return _('%s. Start it with /etc/init.d/autonomy start; its log: logread -e autonomyd')
			.format(res.error.message || _('autonomyd is not running'));
	if (res.error.code === 'rpc')
		return _('The ubus object "autonomy" is not available (install the autonomy package, then /etc/init.d/rpcd reload): %s')
			.format(res.error.message || '');
	return _('autonomy answered an error: %s').format(res.error.message || res.error.code);
}

function fmt(v, digits, unit) {
	if (v == null || typeof v !== 'number')
		return '-';
	return v.toFixed(digits) + (unit || '');
}

function stateText(state) {
	switch (state) {
	case 'starting': return _('Starting (no uplink chosen yet)');
	case 'normal': return _('Normal (the preferred uplink is active)');
	case 'failover': return _('Failover (another uplink carries traffic)');
	case 'manual': return _('Manual (held by a manual failover)');
	case 'all-down': return _('All uplinks down (the last choice is kept)');
	default: return state || '-';
	}
}

function statusBadge(m) {
	var text = m.status || 'unknown';

	if (!m.enabled)
		text = _('disabled');
	else if (m.status === 'down' && m.down_cause)
		text += ' (' + m.down_cause + ')';
	return text;
}

function row(cells, cls) {
	return E('tr', { 'class': 'tr' + (cls ? ' ' + cls : '') }, cells.map(function(c) {
		return E('td', { 'class': 'td' }, [ c ]);
	}));
}

function titles(names) {
	return E('tr', { 'class': 'tr table-titles' }, names.map(function(n) {
		return E('th', { 'class': 'th' }, [ n ]);
	}));
}

function field(label, value) {
	return E('tr', { 'class': 'tr' }, [
		E('td', { 'class': 'td left', 'width': '33%' }, E('strong', {}, [ label ])),
		E('td', { 'class': 'td left' }, [ value ])
	]);
}

function renderActive(st) {
	var ev = st.last_event;

	return E('table', { 'class': 'table', 'id': 'autonomy-active' }, [
		field(_('Active uplink'), E('strong', { 'data-name': 'active' },
			[ st.active != null ? st.active : _('none yet') ])),
		field(_('Active since'), st.active_since || '-'),
		field(_('State'), stateText(st.state)),
		field(_('Manual failover to'), st.manual || '-'),
		field(_('Controller'), st.controller || '-'),
		field(_('Last event'),
			ev ? (ev.ts + ' ' + ev.type + '/' + ev.reason + ': ' + ev.message) : '-'),
		field(_('Configuration'), st.config && st.config.error ?
			_('last reload refused: %s').format(st.config.error) :
			(st.config ? st.config.path : '-'))
	]);
}

function renderMembers(st) {
	var rows = (st.members || []).map(function(m) {
		var s = m.score || {};

		return row([
			E('strong', {}, [ m.name + (m.name === st.active ? ' *' : '') ]),
			m.class || '-',
			m.device || '-',
			statusBadge(m),
			m.eligible ? _('yes') : _('no'),
			String(m.weight),
			m.metered ? _('yes') : _('no'),
			fmt(s.final, 1),
			fmt(s.instant, 1),
			fmt(s.ewma, 1),
			fmt(s.window, 1)
		], m.name === st.active ? 'autonomy-active-member' : null);
	});

	if (!rows.length)
		rows.push(row([ E('em', {}, _('No members configured or discovered.')) ]));

	return E('table', { 'class': 'table', 'id': 'autonomy-members' }, [
		titles([ _('Member'), _('Class'), _('Device'), _('Status'), _('Eligible'),
			_('Weight'), _('Metered'), _('Score'), _('Instant'), _('EWMA'), _('Window') ])
	].concat(rows));
}

function renderEvents(evs) {
	var rows = (evs || []).map(function(ev) {
		return row([ ev.ts, ev.type + '/' + ev.reason, ev.message ]);
	});

	if (!rows.length)
		rows.push(row([ E('em', {}, _('No events yet.')) ]));

	return E('table', { 'class': 'table', 'id': 'autonomy-events' }, [
		titles([ _('Time (UTC)'), _('Event'), _('Message') ])
	].concat(rows));
}

function renderBody(st, evs) {
	var err = problem(st);

	if (err)
		return E('div', { 'class': 'alert-message warning', 'id': 'autonomy-error' }, [ err ]);

	return E('div', {}, [
		E('div', { 'class': 'cbi-section' }, [
			E('h3', {}, _('Active uplink')),
			renderActive(st)
		]),
		E('div', { 'class': 'cbi-section' }, [
			E('h3', {}, _('Members')),
			renderMembers(st)
		]),
		E('div', { 'class': 'cbi-section' }, [
			E('h3', {}, _('Recent events')),
			problem(evs) ? E('em', {}, [ problem(evs) ]) : renderEvents(evs.events)
		])
	]);
}

function fetchAll() {
	return Promise.all([ settle(callStatus()), settle(callEvents(EVENTS_SHOWN)) ]);
}

return view.extend({
	load: function() {
		return fetchAll();
	},

	render: function(data) {
		var body = E('div', { 'id': 'autonomy-overview' }, renderBody(data[0], data[1]));

		poll.add(function() {
			return fetchAll().then(function(d) {
				dom.content(body, renderBody(d[0], d[1]));
			});
		}, POLL_S);

		return E('div', { 'class': 'cbi-map' }, [
			E('h2', {}, [ _('Autonomy: Overview') ]),
			E('div', { 'class': 'cbi-map-descr' }, [
				_('Which uplink carries traffic, how every uplink scores, and what happened recently. Refreshed every %d seconds.')
					.format(POLL_S) ]),
			body
		]);
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
