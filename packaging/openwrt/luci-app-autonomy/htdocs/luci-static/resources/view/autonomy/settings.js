'use strict';
'require view';
'require form';

/*
 * Autonomy settings: a form over /etc/config/autonomy. The main section's key options
 * and the `member` sections; ranges and defaults as in docs/CONFIGURATION.md (the daemon
 * checks them again and refuses a bad reload, keeping the running config; the Overview
 * shows why). Save & Apply commits through rpcd, whose config.change makes procd reload
 * autonomyd (SIGHUP, no restart); options marked "start only" need a service restart.
 */

/* A Linux interface name: 1 to 15 characters, no '/', ':' or whitespace, not . or .. */
function validDevice(section_id, value) {
	if (value == null || value === '')
		return _('A device is required, e.g. eth1 or wwan0');
	if (value.length > 15 || /[\/:\s]/.test(value) || value === '.' || value === '..')
		return _('A Linux interface name: at most 15 characters, no "/", ":" or spaces');
	return true;
}

function intOption(s, tab, name, title, lo, hi, def, descr) {
	var o = s.taboption(tab, form.Value, name, title,
		(descr ? descr + ' ' : '') + _('%d to %d, default %d.').format(lo, hi, def));

	o.datatype = 'and(uinteger,range(%d,%d))'.format(lo, hi);
	o.placeholder = String(def);
	return o;
}

return view.extend({
	render: function() {
		var m, s, o;

		m = new form.Map('autonomy', _('Autonomy: Settings'),
			_('Multi-uplink failover. Changes apply with Save & Apply; autonomyd reloads without a restart.'));

		s = m.section(form.NamedSection, 'main', 'autonomy', _('General'));
		s.addremove = false;
		s.tab('general', _('General'));
		s.tab('decide', _('Decisions'));
		s.tab('http', _('HTTP'));
		s.tab('mqtt', _('MQTT'));

		o = s.taboption('general', form.ListValue, 'log_level', _('Log level'));
		o.value('debug', _('debug'));
		o.value('info', _('info'));
		o.value('warn', _('warn'));
		o.value('error', _('error'));
		o.default = 'info';

		o = s.taboption('general', form.ListValue, 'controller', _('Controller'),
			_('What moves traffic: mwan3 acts as the tracker of mwan3\'s interfaces; route rewrites default-route metrics; none only observes; auto is mwan3 when mwan3 has enabled interfaces, else route. Needs a service restart.'));
		o.value('auto', _('auto'));
		o.value('mwan3', _('mwan3'));
		o.value('route', _('route'));
		o.value('none', _('none (observe only)'));
		o.default = 'auto';

		o = s.taboption('general', form.Flag, 'conntrack_flush', _('Move open connections'),
			_('After a switch by the route controller, delete the conntrack entries of connections that left through the old uplink, so calls, VPNs and downloads carry on over the new one at once instead of hanging.'));
		o.default = '1';
		o.rmempty = false;

		intOption(s, 'general', 'probe_interval_ms', _('Probe interval (ms)'), 100, 60000, 1000,
			_('The active member probes each target this often.'));
		intOption(s, 'general', 'standby_interval_ms', _('Standby probe interval (ms)'),
			100, 600000, 5000,
			_('Standby members probe each target this often.'));
		intOption(s, 'general', 'hard_fail_ms', _('Hard failure after (ms)'), 200, 60000, 2000,
			_('No reply from a quorum of targets for this long is a hard failure.'));
		o = s.taboption('general', form.ListValue, 'data_cap_mode', _('Metered probing'),
			_('How often a metered standby member is probed: every 5 min, 60 s or 15 s (about 0.9, 4.5 or 18 MB a month).'));
		o.value('conservative', _('conservative'));
		o.value('balanced', _('balanced'));
		o.value('aggressive', _('aggressive'));
		o.default = 'balanced';

		intOption(s, 'decide', 'switch_margin', _('Switch margin (points)'), 1, 100, 15,
			_('Score lead another member needs for a soft switch.'));
		intOption(s, 'decide', 'fail_min_duration_s', _('Lead must last (s)'), 0, 3600, 10);
		intOption(s, 'decide', 'restore_min_duration_s', _('Failback after (s)'), 0, 86400, 30,
			_('How long a preferred member must stay good before failback.'));
		intOption(s, 'decide', 'cooldown_s', _('Cooldown (s)'), 0, 3600, 20,
			_('Minimum time between a switch and the next soft switch or failback.'));
		intOption(s, 'decide', 'min_uptime_s', _('Minimum uptime (s)'), 0, 3600, 10,
			_('A member must be up this long before it is chosen.'));

		o = s.taboption('http', form.Value, 'http_listen', _('Listen address'),
			_('IPv4 or IPv6 address of the HTTP API and dashboard. Left empty the default 127.0.0.1 applies; beyond loopback a token is required.'));
		o.datatype = 'ipaddr("nomask")';
		o.placeholder = '127.0.0.1';
		o = s.taboption('http', form.Value, 'http_port', _('Port'), _('Default 8080.'));
		o.datatype = 'port';
		o.placeholder = '8080';
		o = s.taboption('http', form.Value, 'http_token', _('Token'),
			_('Bearer token; without it HTTP is read-only. At most 127 characters.'));
		o.password = true;
		o.datatype = 'maxlength(127)';

		o = s.taboption('mqtt', form.Value, 'mqtt_host', _('Broker'),
			_('IP address or host name; empty turns MQTT off.'));
		o.datatype = 'host';
		o = s.taboption('mqtt', form.Value, 'mqtt_port', _('Port'),
			_('Default 1883; 8883 is usual with TLS.'));
		o.datatype = 'port';
		o.placeholder = '1883';
		o = s.taboption('mqtt', form.Value, 'mqtt_username', _('User name'));
		o.datatype = 'maxlength(127)';
		o = s.taboption('mqtt', form.Value, 'mqtt_password', _('Password'));
		o.password = true;
		o.datatype = 'maxlength(127)';
		o = s.taboption('mqtt', form.Flag, 'mqtt_tls', _('TLS'),
			_('Connect over TLS and verify the broker.'));
		o.default = '0';
		o = s.taboption('mqtt', form.Value, 'mqtt_prefix', _('Topic prefix'),
			_('Default autonomy.'));
		o.placeholder = 'autonomy';
		o.datatype = 'maxlength(127)';

		s = m.section(form.GridSection, 'member', _('Members'),
			_('Uplinks autonomy manages. The section name is the member name (at most 31 characters).'));
		s.addremove = true;
		s.anonymous = false;
		s.nodescriptions = true;

		o = s.option(form.Flag, 'enabled', _('Enabled'));
		o.default = '1';
		o.rmempty = false;
		o.editable = true;

		o = s.option(form.Value, 'device', _('Device'));
		o.rmempty = false;
		o.validate = validDevice;

		o = s.option(form.ListValue, 'class', _('Class'));
		o.value('auto', _('auto'));
		o.value('starlink', _('Starlink'));
		o.value('cellular', _('cellular'));
		o.value('wifi', _('Wi-Fi'));
		o.value('wired', _('wired'));
		o.value('other', _('other'));
		o.default = 'auto';

		o = s.option(form.Value, 'weight', _('Weight'),
			_('1 to 1000, default 100; higher is preferred.'));
		o.datatype = 'and(uinteger,range(1,1000))';
		o.placeholder = '100';

		o = s.option(form.Flag, 'metered', _('Metered'),
			_('Costs per byte: probed less while on standby.'));
		o.default = '0';

		o = s.option(form.DynamicList, 'target', _('Probe targets'),
			_('1 to 8 IPv4/IPv6 addresses; default 1.1.1.1 and 8.8.8.8.'));
		o.datatype = 'ipaddr("nomask")';
		o.modalonly = true;

		o = s.option(form.ListValue, 'probe', _('Probe'));
		o.value('icmp', _('ICMP echo'));
		o.value('dns', _('DNS query'));
		o.value('tcp', _('TCP connect'));
		o.default = 'icmp';
		o.modalonly = true;

		o = s.option(form.Value, 'reliability', _('Reliability'),
			_('How many targets must answer: 1 to 8, default 1.'));
		o.datatype = 'and(uinteger,range(1,8))';
		o.placeholder = '1';
		o.modalonly = true;

		o = s.option(form.ListValue, 'radio_source', _('Radio source'),
			_('Cellular members: where the signal comes from; auto tries RutOS ubus, uqmi, then mmcli.'));
		o.value('auto', _('auto'));
		o.value('ubus', _('ubus (RutOS)'));
		o.value('uqmi', _('uqmi'));
		o.value('mmcli', _('mmcli (ModemManager)'));
		o.value('off', _('off'));
		o.default = 'auto';
		o.modalonly = true;

		o = s.option(form.Value, 'modem', _('Modem'),
			_('As the source names it: gsm.modem1, /dev/cdc-wdm1 or 1; empty for the first.'));
		o.datatype = 'maxlength(63)';
		o.modalonly = true;

		o = s.option(form.Flag, 'prefer_roaming', _('Roaming is fine'),
			_('No score penalty while roaming (a SIM that always roams).'));
		o.default = '0';
		o.modalonly = true;

		o = s.option(form.Value, 'data_budget_mb', _('Data budget (MB/month)'),
			_('0 for none; warnings at 80, 90 and 100 %.'));
		o.datatype = 'and(uinteger,range(0,100000000))';
		o.placeholder = '0';
		o.modalonly = true;

		o = s.option(form.Value, 'data_reset_day', _('Budget resets on day'),
			_('Day of the month, 1 to 28.'));
		o.datatype = 'and(uinteger,range(1,28))';
		o.placeholder = '1';
		o.modalonly = true;

		return m.render();
	}
});
