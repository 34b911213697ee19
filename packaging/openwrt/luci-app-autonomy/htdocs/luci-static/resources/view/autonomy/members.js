'use strict';
'require view';
'require dom';
'require poll';
'require rpc';

/*
 * Autonomy members: one section per member with its status, scores, probe results,
 * link state, flap dampening and risk; members of class starlink also show what the
 * dish reports (reachable, outage, obstruction, alerts, risk), cellular members their
 * modem's radio, metered ones their data use this period. From ubus
 * `autonomy members` ({"members": [...]}, docs/API.md), refreshed every 5 s.
 */

var POLL_S = 5;

var callMembers = rpc.declare({
	object: 'autonomy',
	method: 'members'
});

function settle(promise) {
	return promise.catch(function(err) {
		return { error: { code: 'rpc', message: err && err.message ? err.message : String(err) } };
	});
}

function problem(res) {
	if (res == null || typeof res !== 'object')
		return _('No answer from the autonomy service.');
	if (res.error == null)
		return Array.isArray(res.members) ? null :
			_('Unexpected answer from the autonomy service.');
	if (res.error.code === 'unavailable')
		return _('%s. Start it with /etc/init.d/autonomy start; its log: logread -e autonomyd')
			.format(res.error.message || _('autonomyd is not running'));
	if (res.error.code === 'rpc')
		return _('The ubus object "autonomy" is not available (install the autonomy package, then /etc/init.d/rpcd reload): %s')
			.format(res.error.message || '');
	return _('autonomy answered an error: %s').format(res.error.message || res.error.code);
}

function num(v, digits, unit) {
	if (v == null || typeof v !== 'number')
		return '-';
	return v.toFixed(digits) + (unit || '');
}

function yesno(v) {
	if (v == null)
		return '-';
	return v ? _('yes') : _('no');
}

function field(label, value) {
	return E('tr', { 'class': 'tr' }, [
		E('td', { 'class': 'td left', 'width': '33%' }, [ label ]),
		E('td', { 'class': 'td left' }, [ value ])
	]);
}

function bytes(n) {
	if (n == null || typeof n !== 'number')
		return '-';
	if (n >= 1048576)
		return (n / 1048576).toFixed(1) + ' MiB';
	if (n >= 1024)
		return (n / 1024).toFixed(1) + ' KiB';
	return n + ' B';
}

function memberFields(m) {
	var s = m.score || {};
	var p = m.probes || {};
	var status = m.status || 'unknown';

	if (m.status === 'down' && m.down_cause)
		status += ' (' + m.down_cause + ')';

	return [
		field(_('Class / device'), (m.class || '-') + ' / ' + (m.device || '-')),
		field(_('Enabled'), yesno(m.enabled)),
		field(_('Status'), status +
			(m.status_since ? ' ' + _('since %s').format(m.status_since) : '')),
		field(_('Active'), yesno(m.active)),
		field(_('Eligible'), yesno(m.eligible)),
		field(_('Weight / metered'), String(m.weight) + ' / ' + yesno(m.metered)),
		field(_('Score (final / instant / EWMA / window)'),
			[ num(s.final, 1), num(s.instant, 1), num(s.ewma, 1), num(s.window, 1) ].join(' / ')),
		field(_('Latency / loss / jitter'),
			[ num(m.latency_ms, 1, ' ms'), num(m.loss_pct, 1, ' %'),
			  num(m.jitter_ms, 1, ' ms') ].join(' / ')),
		field(_('Probe / targets'), (m.probe || '-') + ': ' + (m.targets || []).join(', ') +
			' ' + _('(%d must answer)').format(m.reliability || 1)),
		field(_('Probes sent / received'), (p.sent != null ? p.sent : '-') + ' / ' +
			(p.received != null ? p.received : '-') + (p.burst ? ' ' + _('(burst)') : '')),
		field(_('Probe traffic today'), bytes(p.bytes_today)),
		field(_('Link'), m.link ? (m.link.ok ? _('ok') : (m.link.problem || _('not ok'))) : '-'),
		field(_('Flap penalty'), m.dampening ? String(m.dampening.penalty) +
			(m.dampening.suppressed ? ' ' + _('(suppressed)') : '') : '-'),
		field(_('Risk'), m.risk || _('none'))
	];
}

function alertsText(alerts) {
	if (!Array.isArray(alerts) || !alerts.length)
		return _('none');
	return alerts.join(', ');
}

function starlinkFields(d) {
	var rows = [
		field(_('Dish reachable'), yesno(d.reachable) + (d.address ? ' (' + d.address + ')' : ''))
	];

	if (!d.reachable) {
		rows.push(field(_('Dish error'), d.error || '-'));
		return rows;
	}
	rows.push(
		field(_('Outage'), d.outage ?
			d.outage.cause + ' (' + num(d.outage.duration_s, 1, ' s') + ')' : _('none')),
		field(_('Obstruction'), num(d.obstruction_pct, 1, ' %') +
			(d.currently_obstructed ? ' ' + _('(obstructed now)') : '')),
		field(_('Alerts'), alertsText(d.alerts)),
		field(_('Risk'), d.risk ? d.risk + (d.risk_reason ? ': ' + d.risk_reason : '') : _('none')),
		field(_('PoP latency / drop'),
			num(d.pop_latency_ms, 1, ' ms') + ' / ' + num(d.pop_drop_pct, 1, ' %')),
		field(_('Score penalty'), num(d.penalty, 1)),
		field(_('Software / hardware'), (d.software || '-') + ' / ' + (d.hardware || '-')),
		field(_('Dish uptime'), d.uptime_s != null ? '%t'.format(d.uptime_s) : '-')
	);
	return rows;
}

function cellularFields(c) {
	var roam = c.roaming == null ? '-' : (c.roaming ? _('roaming') : _('home network'));

	if (!c.tech)
		return [
			field(_('Modem'), c.source || '-'),
			field(_('Radio'), _('unknown') + (c.error ? ': ' + c.error : ''))
		];
	return [
		field(_('Modem'), (c.modem || _('default')) + ' (' + (c.source || '-') + ')'),
		field(_('Technology'), c.tech),
		field(_('RSRP / RSRQ / SINR'), num(c.rsrp_dbm, 0, ' dBm') + ' / ' +
			num(c.rsrq_db, 1, ' dB') + ' / ' + num(c.sinr_db, 1, ' dB')),
		field(_('Operator'), (c.operator || '-') + ' (' + (c.mccmnc || '-') + '), ' + roam),
		field(_('Cell / SIM slot'), (c.cell_id || '-') + ' / ' +
			(c.sim_slot != null ? String(c.sim_slot) : '-')),
		field(_('Score penalty'), num(c.penalty, 1)),
		field(_('Risk'), c.risk ? c.risk + (c.risk_why ? ': ' + c.risk_why : '') : _('none'))
	];
}

function dataFields(d) {
	return [
		field(_('Used this period'), num(d.used_mb, 1, ' MB') +
			(d.budget_mb != null ? ' ' + _('of') + ' ' + d.budget_mb + ' MB (' +
			num(d.used_pct, 1, ' %') + ')' : '')),
		field(_('Of which probes'), num(d.probe_mb, 3, ' MB')),
		field(_('Period'), (d.period_start || '-').substr(0, 10) + ' – ' +
			(d.period_end || '-').substr(0, 10))
	];
}

function renderMember(m) {
	var parts = [
		E('h3', {}, [ m.name ]),
		E('table', { 'class': 'table autonomy-member', 'data-member': m.name }, memberFields(m))
	];

	if (m.starlink)
		parts.push(E('h4', {}, [ _('Starlink dish') ]),
			E('table', { 'class': 'table autonomy-starlink', 'data-member': m.name },
				starlinkFields(m.starlink)));
	if (m.cellular)
		parts.push(E('h4', {}, [ _('Cellular radio') ]),
			E('table', { 'class': 'table autonomy-cellular', 'data-member': m.name },
				cellularFields(m.cellular)));
	if (m.data)
		parts.push(E('h4', {}, [ _('Data use') ]),
			E('table', { 'class': 'table autonomy-data', 'data-member': m.name },
				dataFields(m.data)));

	return E('div', { 'class': 'cbi-section' }, parts);
}

function renderBody(res) {
	var err = problem(res);

	if (err)
		return E('div', { 'class': 'alert-message warning', 'id': 'autonomy-error' }, [ err ]);
	if (!res.members.length)
		return E('em', {}, [ _('No members configured or discovered.') ]);
	return E('div', {}, res.members.map(renderMember));
}

return view.extend({
	load: function() {
		return settle(callMembers());
	},

	render: function(res) {
		var body = E('div', { 'id': 'autonomy-members' }, renderBody(res));

		poll.add(function() {
			return settle(callMembers()).then(function(r) {
				dom.content(body, renderBody(r));
			});
		}, POLL_S);

		return E('div', { 'class': 'cbi-map' }, [
			E('h2', {}, [ _('Autonomy: Members') ]),
			body
		]);
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
