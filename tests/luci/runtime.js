/*
 * A small stand-in for the LuCI client runtime, just enough to load and render the
 * views of packaging/openwrt/luci-app-autonomy in a browser page. It is NOT LuCI: it
 * tests our view code (what it asks for over ubus, what it renders from the daemon's
 * real answers, which UCI options its form declares) against JSON recorded from a
 * running autonomyd, not LuCI itself.
 *
 * What it mimics, from LuCI's documented behaviour:
 * - views are plain scripts starting with 'use strict'; 'require NAME'; directives and
 *   ending in `return view.extend({...})`; they are compiled as a function body whose
 *   arguments are the required classes;
 * - E(tag, attrs, children): an array of children appends elements and text nodes, a
 *   lone string child is set as innerHTML (as LuCI's dom.append does), so views must
 *   wrap untrusted text in an array;
 * - rpc.declare({object, method, params, expect}) returns a function whose positional
 *   arguments become the named params; `expect` picks a key of the reply;
 * - String.prototype.format with %s %d %h %t.
 *
 * window.__luci.run(name, source, answers) loads one view and returns a report.
 */
(function() {
	'use strict';

	var strings = [];
	var declared = [];
	var calls = [];
	var polls = [];
	var answers = {};
	var notes = [];

	function isElem(e) {
		return e != null && typeof e === 'object' && 'nodeType' in e;
	}

	function append(node, children) {
		if (Array.isArray(children)) {
			children.forEach(function(c) {
				if (isElem(c))
					node.appendChild(c);
				else if (Array.isArray(c))
					append(node, c);
				else if (c != null)
					node.appendChild(document.createTextNode(String(c)));
			});
		} else if (isElem(children)) {
			node.appendChild(children);
		} else if (children != null) {
			node.innerHTML = String(children);
		}
	}

	function E(tag, attrs, children) {
		var node = document.createElement(tag);

		if (Array.isArray(attrs) || isElem(attrs) || typeof attrs === 'string') {
			children = attrs;
			attrs = null;
		}
		Object.keys(attrs || {}).forEach(function(k) {
			var v = attrs[k];

			if (typeof v === 'function')
				node.addEventListener(k.replace(/^on/, ''), v);
			else if (v != null)
				node.setAttribute(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
		});
		append(node, children);
		return node;
	}

	function escapeHTML(s) {
		return String(s).replace(/[&<>"']/g, function(c) {
			return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', '\'': '&#39;' }[c];
		});
	}

	function interval(s) {
		s = Math.floor(Number(s));
		var d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24;
		var m = Math.floor(s / 60) % 60;

		return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + (d || h || m ? m + 'm ' : '') +
			(s % 60) + 's';
	}

	/* eslint-disable no-extend-native */
	String.prototype.format = function() {
		var args = Array.prototype.slice.call(arguments);

		return this.replace(/%([%sdht])/g, function(all, f) {
			if (f === '%')
				return '%';
			var v = args.shift();

			switch (f) {
			case 'd': return String(parseInt(v, 10));
			case 'h': return escapeHTML(v);
			case 't': return interval(v);
			default: return String(v);
			}
		});
	};

	function _(s) {
		if (typeof s !== 'string')
			throw new TypeError('_() needs a string, got ' + typeof s);
		strings.push(s);
		return s;
	}

	var dom = {
		content: function(node, children) {
			while (node.firstChild)
				node.removeChild(node.firstChild);
			append(node, children);
			return node;
		},
		append: append,
		elem: isElem
	};

	var view = {
		extend: function(proto) {
			return proto;
		}
	};

	function applyExpect(expect, reply) {
		var keys = Object.keys(expect || {});

		if (!keys.length)
			return reply;
		var key = keys[0], want = expect[key];
		var ret = key === '' ? reply : (reply != null ? reply[key] : null);

		if (ret == null || Array.isArray(ret) !== Array.isArray(want) || typeof ret !== typeof want)
			ret = want;
		return ret;
	}

	var rpc = {
		declare: function(opts) {
			declared.push({ object: opts.object, method: opts.method, params: opts.params || [],
					expect: opts.expect || null });
			return function() {
				var pos = Array.prototype.slice.call(arguments);
				var args = {};

				(opts.params || []).forEach(function(p, i) {
					if (i < pos.length)
						args[p] = pos[i];
				});
				calls.push({ object: opts.object, method: opts.method, args: args });

				var a = answers[opts.object + '.' + opts.method];

				if (a === undefined)
					return Promise.reject(new Error('Object not found'));
				if (a && a.__reject)
					return Promise.reject(new Error(a.__reject));
				return Promise.resolve(applyExpect(opts.expect, JSON.parse(JSON.stringify(a))));
			};
		}
	};

	var poll = {
		add: function(fn, secs) {
			polls.push({ fn: fn, interval: secs });
		}
	};

	var ui = {
		addNotification: function(title, body) {
			notes.push({ title: title, body: String(body && body.textContent || body) });
		}
	};

	/* form: records the declared structure; render() shows it as a plain list. */
	function Option(section, kind, name, title, descr, tab) {
		this.section = section;
		this.kind = kind;
		this.option = name;
		this.title = title;
		this.description = descr;
		this.tab = tab || null;
		this.values = [];
	}
	Option.prototype.value = function(k, label) {
		this.values.push([ k, label != null ? label : k ]);
	};
	Option.prototype.depends = function() {};

	function Section(map, kind, args) {
		this.map = map;
		this.kind = kind;
		this.args = args;
		this.tabs = [];
		this.children = [];
	}
	Section.prototype.tab = function(name, title) {
		this.tabs.push(name);
	};
	Section.prototype.option = function(cls, name, title, descr) {
		var o = new Option(this, cls.kind, name, title, descr);

		this.children.push(o);
		return o;
	};
	Section.prototype.taboption = function(tab, cls, name, title, descr) {
		if (this.tabs.indexOf(tab) < 0)
			throw new Error('taboption: tab "' + tab + '" not declared');
		var o = this.option(cls, name, title, descr);

		o.tab = tab;
		return o;
	};

	function Map(config, title, descr) {
		this.config = config;
		this.title = title;
		this.description = descr;
		this.sections = [];
	}
	Map.prototype.section = function(cls) {
		var s = new Section(this, cls.kind, Array.prototype.slice.call(arguments, 1));

		this.sections.push(s);
		return s;
	};
	Map.prototype.render = function() {
		var root = E('div', { 'class': 'cbi-map', 'id': 'fake-form' }, [
			E('h2', {}, [ this.title ])
		]);

		this.sections.forEach(function(s) {
			root.appendChild(E('fieldset', { 'data-kind': s.kind }, s.children.map(function(o) {
				return E('div', { 'data-option': o.option }, [ o.title ]);
			})));
		});
		window.__luci_form = this;
		return Promise.resolve(root);
	};

	var form = { Map: Map };

	[ 'NamedSection', 'TypedSection', 'GridSection', 'TableSection' ].forEach(function(k) {
		form[k] = { kind: k };
	});
	[ 'Value', 'ListValue', 'Flag', 'DynamicList', 'DummyValue', 'MultiValue', 'TextValue' ]
		.forEach(function(k) {
			form[k] = { kind: k };
		});

	var classes = { view: view, rpc: rpc, poll: poll, ui: ui, dom: dom, form: form };
	var L = { bind: function(fn, self) { return fn.bind(self); }, dom: dom, ui: ui };

	window.E = E;
	window._ = _;

	function compile(source) {
		var names = [];
		var re = /^\s*'require\s+([a-z0-9_.]+)'\s*;/mg;
		var m;

		while ((m = re.exec(source)) !== null)
			names.push(m[1]);
		names.forEach(function(n) {
			if (!(n in classes))
				throw new Error('view requires unknown class ' + n);
		});
		/* eslint-disable-next-line no-new-func */
		var fn = new Function([ 'L' ].concat(names).join(','), source);

		return { requires: names, view: fn.apply(window, [ L ].concat(names.map(function(n) {
			return classes[n];
		}))) };
	}

	function formReport(map) {
		if (!map)
			return null;
		return {
			config: map.config,
			sections: map.sections.map(function(s) {
				return {
					kind: s.kind,
					args: s.args.filter(function(a) { return typeof a === 'string'; }),
					addremove: !!s.addremove,
					anonymous: !!s.anonymous,
					options: s.children.map(function(o) {
						return {
							kind: o.kind, name: o.option, tab: o.tab,
							datatype: o.datatype || null,
							'default': o['default'] != null ? String(o['default']) : null,
							placeholder: o.placeholder != null ? String(o.placeholder) : null,
							values: o.values.map(function(v) { return v[0]; }),
							password: !!o.password, rmempty: o.rmempty !== false,
							modalonly: !!o.modalonly,
							validate: typeof o.validate === 'function'
						};
					})
				};
			})
		};
	}

	function tables() {
		var out = {};

		document.querySelectorAll('table').forEach(function(t, i) {
			var key = t.id || (t.getAttribute('data-member') ?
				t.className.split(' ').pop() + ':' + t.getAttribute('data-member') : 'table' + i);

			out[key] = Array.prototype.map.call(t.querySelectorAll('tr'), function(tr) {
				return Array.prototype.map.call(tr.children, function(td) {
					return td.textContent.trim();
				});
			});
		});
		return out;
	}

	function snapshot() {
		var err = document.getElementById('autonomy-error');

		return { text: document.body.innerText, tables: tables(),
			 error: err ? err.textContent : null,
			 injected: document.querySelectorAll('[data-injected]').length };
	}

	function validateProbe(map, probes) {
		var out = {};

		(map ? map.sections : []).forEach(function(s) {
			s.children.forEach(function(o) {
				if (typeof o.validate !== 'function' || !probes[o.option])
					return;
				out[o.option] = probes[o.option].map(function(v) {
					var r = o.validate('probe', v);

					return [ v, r === true ? true : String(r) ];
				});
			});
		});
		return out;
	}

	window.__luci = {
		setAnswers: function(a) {
			answers = a;
		},

		run: function(source, ans, opts) {
			opts = opts || {};
			answers = ans || {};
			var c = compile(source);
			var v = c.view;

			if (!v || typeof v.render !== 'function')
				throw new Error('the view does not return view.extend({... render ...})');

			return Promise.resolve(typeof v.load === 'function' ? v.load() : null)
				.then(function(data) {
					return v.render(data);
				})
				.then(function(node) {
					document.body.appendChild(node);

					var report = {
						requires: c.requires, declared: declared, calls: calls.slice(),
						polls: polls.map(function(p) { return p.interval; }),
						buttons: { saveApply: v.handleSaveApply, save: v.handleSave,
							   reset: v.handleReset },
						first: snapshot(), form: formReport(window.__luci_form),
						validate: validateProbe(window.__luci_form, opts.validate || {}),
						strings: strings.length, notifications: notes
					};

					if (!opts.tick)
						return report;
					answers = opts.tick;
					return Promise.all(polls.map(function(p) { return p.fn(); })).then(function() {
						report.after_poll = snapshot();
						report.calls_after_poll = calls.slice(report.calls.length);
						return report;
					});
				});
		}
	};
})();
