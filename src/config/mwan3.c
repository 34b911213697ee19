/* Members from mwan3/network/wireless: the mapping is described in mwan3.h. */
#include "config/mwan3.h"
#include "config/config.h"
#include "config/uci.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MWAN3_NO_METRIC	100000

/* uci(1) accepts '-' in section types (wireless has wifi-iface and wifi-device);
 * our parser takes only [A-Za-z0-9_], so the type word of a config line gets '_'. */
static void type_dashes(char *line)
{
	char *p = line + strspn(line, " \t");

	if (strncmp(p, "config", 6) || (p[6] != ' ' && p[6] != '\t'))
		return;
	p += 6 + strspn(p + 6, " \t");
	for (; *p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r'; p++)
		if (*p == '-')
			*p = '_';
}

/* Parses <root>/<name>. A missing file is an empty one unless required. Bad
 * lines are logged and skipped, as uci does not stop at them either. */
static int read_uci(const char *root, const char *name, struct uci_file *f, bool required)
{
	char path[CFG_PATH_LEN + 16];
	struct uci_parser p;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *in;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	in = fopen(path, "re");
	if (!in) {
		int err = errno;

		if (err == ENOENT)
			return required ? -ENOENT : 0;
		log_warn("mwan3 discovery: cannot read %s: %s", path, strerror(err));
		return -err;
	}
	uci_parser_init(&p, path);
	while ((len = getline(&line, &cap, in)) >= 0) {
		type_dashes(line);
		uci_parser_line(&p, line, (size_t)len);
	}
	free(line);
	fclose(in);
	uci_parser_finish(&p, f);
	for (int i = 0; i < p.nerrors && i < UCI_MAX_ERRORS; i++)
		log_warn("mwan3 discovery: %s (line skipped)", p.errors[i]);
	uci_parser_free(&p);
	return 0;
}

static bool opt_is(const struct uci_section *s, const char *name, const char *value)
{
	const char *v = uci_get(s, name);

	return v && !strcmp(v, value);
}

static bool is_netdev(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n >= CFG_DEV_LEN || s[0] == '@' || strchr(s, '/'))
		return false;
	return !strpbrk(s, " \t:");
}

static bool in_list(const char *v, const char *const *list)
{
	for (int i = 0; v && list[i]; i++)
		if (!strcmp(v, list[i]))
			return true;
	return false;
}

static const char *const cellular_protos[] = {
	"qmi", "ncm", "mbim", "modemmanager", "wwan", "3g", "qmux", "uqmi", NULL
};
static const char *const ppp_protos[] = { "pppoe", "pppoa", "3g", "ppp", "pptp", "l2tp", NULL };

/* The Wi-Fi client (mode sta) attached to network iface, if any. */
static const struct uci_section *wifi_sta(const struct uci_file *wl, const char *iface)
{
	for (int i = 0; i < wl->nsecs; i++) {
		const struct uci_section *s = &wl->secs[i];

		if (!strcmp(s->type, "wifi_iface") && opt_is(s, "mode", "sta") &&
		    opt_is(s, "network", iface))
			return s;
	}
	return NULL;
}

/* Device and class of a network interface; false (with a warning) without one. */
static bool device_of(const struct uci_file *net, const struct uci_file *wl, const char *iface,
		      struct cfg_member *m)
{
	const struct uci_section *s = uci_find_section(net, iface);
	const struct uci_section *sta = wifi_sta(wl, iface);
	const char *proto = s ? uci_get(s, "proto") : NULL;
	const char *dev = s ? uci_get(s, "device") : NULL;

	if (!s || strcmp(s->type, "interface")) {
		log_warn("mwan3 discovery: interface %s is not in the network file: skipped",
			 iface);
		return false;
	}
	if (!dev)
		dev = uci_get(s, "ifname");
	if (in_list(proto, cellular_protos))
		m->class = MEM_CLASS_CELLULAR;
	if (sta) {
		m->class = MEM_CLASS_WIFI;
		dev = uci_get(sta, "ifname");
	} else if (in_list(proto, ppp_protos)) {
		snprintf(m->device, sizeof(m->device), "%s-%s", proto, iface);
		return true;
	}
	if (!is_netdev(dev)) {
		log_warn("mwan3 discovery: interface %s (proto %s) has no network device%s%s: "
			 "skipped; add a member section for it", iface, proto ? proto : "none",
			 dev ? ": " : "", dev ? dev : "");
		return false;
	}
	strlcpy_ok(m->device, dev, sizeof(m->device));
	return true;
}

/* track_ip and reliability, from the interface section or a RutOS condition;
 * after `autonomyctl mwan3 takeover` the targets are in autonomy_track_ip. */
static void tracking_of(const struct uci_section *s, struct cfg_member *m, bool *have_targets)
{
	const struct uci_option *t = uci_find_option(s, "track_ip");

	if (!t)
		t = uci_find_option(s, "autonomy_track_ip");
	const char *rel = uci_get(s, "reliability");
	unsigned char buf[sizeof(struct in6_addr)];

	for (int i = 0; t && i < t->nvalues; i++) {
		const char *a = t->values[i];

		if (!*have_targets) {
			m->targets.n = 0;
			*have_targets = true;
		}
		if (inet_pton(AF_INET, a, buf) != 1 && inet_pton(AF_INET6, a, buf) != 1)
			log_warn("mwan3 discovery: %s: track_ip '%s' is not an IP address: skipped",
				 m->name, a);
		else if (m->targets.n == CFG_MAX_TARGETS)
			log_warn("mwan3 discovery: %s: more than %d track_ip: '%s' skipped",
				 m->name, CFG_MAX_TARGETS, a);
		else
			strlcpy_ok(m->targets.addr[m->targets.n++], a, CFG_ADDR_LEN);
	}
	if (rel)
		m->reliability = atoi(rel);
}

static int lowest_metric(const struct uci_file *mw, const char *iface)
{
	int best = MWAN3_NO_METRIC;

	for (int i = 0; i < mw->nsecs; i++) {
		const struct uci_section *s = &mw->secs[i];
		const char *metric = uci_get(s, "metric");

		if (strcmp(s->type, "member") || !opt_is(s, "interface", iface))
			continue;
		/* mwan3's default metric is 1 */
		if ((metric ? atoi(metric) : 1) < best)
			best = metric ? atoi(metric) : 1;
	}
	return best;
}

static bool device_taken(const struct config *c, const struct cfg_member *m)
{
	for (int i = 0; i < c->nmembers; i++) {
		if (!strcmp(c->member[i].device, m->device)) {
			log_warn("mwan3 discovery: interface %s uses device %s like %s: skipped",
				 m->name, m->device, c->member[i].name);
			return true;
		}
	}
	return false;
}

static bool build_member(const struct uci_file *mw, const struct uci_file *net,
			 const struct uci_file *wl, const struct uci_section *s,
			 struct cfg_member *m)
{
	bool have_targets = false;
	int metric;

	memset(m, 0, sizeof(*m));
	cfg_member_defaults(m);
	if (!strlcpy_ok(m->name, s->name, sizeof(m->name))) {
		log_warn("mwan3 discovery: interface name %s is too long: skipped", s->name);
		return false;
	}
	if (!device_of(net, wl, s->name, m))
		return false;
	if (strstr(s->name, "starlink"))
		m->class = MEM_CLASS_STARLINK;
	metric = lowest_metric(mw, s->name);
	m->weight = metric == MWAN3_NO_METRIC ? 1 : 1001 - (metric < 1 ? 1 : metric);
	if (m->weight < 1)
		m->weight = 1;
	tracking_of(s, m, &have_targets);
	for (int i = 0; i < mw->nsecs; i++) {
		const struct uci_section *cond = &mw->secs[i];

		if (!strcmp(cond->type, "condition") && opt_is(cond, "interface", s->name))
			tracking_of(cond, m, &have_targets);
	}
	if (m->targets.n == 0) {
		struct cfg_member d;

		cfg_member_defaults(&d);
		m->targets = d.targets;
	}
	if (m->reliability < 1)
		m->reliability = 1;
	if (m->reliability > m->targets.n)
		m->reliability = m->targets.n;
	return true;
}

static int discover(const struct uci_file *mw, const struct uci_file *net,
		    const struct uci_file *wl, struct config *c)
{
	int added = 0;

	for (int i = 0; i < mw->nsecs; i++) {
		const struct uci_section *s = &mw->secs[i];
		struct cfg_member m;

		if (strcmp(s->type, "interface") || !s->name || !uci_get_bool(s, "enabled"))
			continue;
		if (c->nmembers == CFG_MAX_MEMBERS) {
			log_warn("mwan3 discovery: more than %d interfaces: %s and later skipped",
				 CFG_MAX_MEMBERS, s->name);
			break;
		}
		if (!build_member(mw, net, wl, s, &m) || device_taken(c, &m))
			continue;
		c->member[c->nmembers++] = m;
		added++;
		log_debug("mwan3 discovery: %s on %s, class %s, weight %d, %d target(s)", m.name,
			  m.device, cfg_class_names[m.class], m.weight, m.targets.n);
	}
	return added;
}

int mwan3_discover(const char *root, struct config *c)
{
	struct uci_file mw = { 0 }, net = { 0 }, wl = { 0 };
	int rc;

	rc = read_uci(root, "mwan3", &mw, true);
	if (rc < 0)
		return rc;
	rc = read_uci(root, "network", &net, false);
	if (rc == 0)
		rc = read_uci(root, "wireless", &wl, false);
	if (rc == 0)
		rc = discover(&mw, &net, &wl, c);
	uci_file_free(&mw);
	uci_file_free(&net);
	uci_file_free(&wl);
	return rc;
}

bool mwan3_present(const char *root)
{
	struct uci_file mw = { 0 };
	bool found = false;

	if (read_uci(root, "mwan3", &mw, true) < 0)
		return false;
	for (int i = 0; !found && i < mw.nsecs; i++)
		found = !strcmp(mw.secs[i].type, "interface") && mw.secs[i].name &&
			uci_get_bool(&mw.secs[i], "enabled");
	uci_file_free(&mw);
	return found;
}
