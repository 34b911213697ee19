/* autonomyd: keeps a router online across several uplinks.
 *
 * One process, one thread, one libev loop. main() starts the modules in order
 * and finishes them in reverse; signals arrive through the loop. */
#include "api/http.h"
#include "api/sock.h"
#include "config/config.h"
#include "core/daemon.h"
#include "core/log.h"
#include "core/state.h"
#include "core/util.h"
#include "decide/engine.h"
#include "member/member.h"
#include "notify/notify.h"
#include "telem/evlog.h"
#include "telem/metrics.h"
#include "telem/mqtt.h"
#include "telem/sampler.h"

#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

struct options {
	const char *config;
	const char *state_dir;	/* overrides the config's state_dir */
	bool foreground;
	bool check;
	int log_level;		/* -1: from the config */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: autonomyd [-f] [-c FILE] [-s DIR] [-l LEVEL]\n"
		"       autonomyd --check [-c FILE]\n"
		"\n"
		"  -c, --config FILE     configuration (default " CFG_DEFAULT_PATH ")\n"
		"  -f, --foreground      log to stderr instead of syslog (autonomyd never\n"
		"                        forks: procd or systemd supervise it directly)\n"
		"  -s, --state-dir DIR   pid file, control socket, state file (overrides state_dir)\n"
		"  -l, --log-level LEVEL debug, info, warn or error (overrides log_level)\n"
		"      --check           validate the configuration, print what is wrong, exit 0/1\n"
		"  -V, --version         print the version\n"
		"  -h, --help            this text\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "check", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	*o = (struct options){ .config = CFG_DEFAULT_PATH, .log_level = -1 };
	while ((c = getopt_long(argc, argv, "c:fs:l:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'f': o->foreground = true; break;
		case 's': o->state_dir = optarg; break;
		case 'C': o->check = true; break;
		case 'l':
			o->log_level = log_level_parse(optarg);
			if (o->log_level < 0) {
				fprintf(stderr, "autonomyd: unknown log level '%s' (debug, info, warn, error)\n",
					optarg);
				return 2;
			}
			break;
		case 'V': printf("autonomyd %s (%s)\n", AUTONOMY_VERSION, AUTONOMY_GIT); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "autonomyd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}

/* --check: every message goes to stderr as it is found; nothing is touched. */
static int check_config(const char *path)
{
	static struct config c;
	char err[CFG_ERR_LEN];
	int rc;

	log_init(LOG_PLAIN, LOG_LVL_WARN);
	rc = cfg_load(&c, path, err, sizeof(err));
	if (rc == 0)
		printf("%s: OK (%d member%s)\n", path, c.nmembers, c.nmembers == 1 ? "" : "s");
	else
		printf("%s: %d error%s\n", path, rc < 0 ? 1 : rc, rc == 1 || rc < 0 ? "" : "s");
	return rc == 0 ? 0 : 1;
}

static void sig_stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	log_info("%s: shutting down", strsignal(w->signum));
	ev_break(loop, EVBREAK_ALL);
}

static void sig_hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	log_info("SIGHUP: reloading %s", daemon_ctx.cfg_path);
	daemon_reload();
}

static ev_signal sig_term, sig_int, sig_hup;

static void signals_init(struct ev_loop *loop)
{
	signal(SIGPIPE, SIG_IGN);
	ev_signal_init(&sig_term, sig_stop_cb, SIGTERM);
	ev_signal_init(&sig_int, sig_stop_cb, SIGINT);
	ev_signal_init(&sig_hup, sig_hup_cb, SIGHUP);
	ev_signal_start(loop, &sig_term);
	ev_signal_start(loop, &sig_int);
	ev_signal_start(loop, &sig_hup);
}

static void signals_fini(struct ev_loop *loop)
{
	ev_signal_stop(loop, &sig_hup);
	ev_signal_stop(loop, &sig_int);
	ev_signal_stop(loop, &sig_term);
}

/* Loads the configuration at start: unlike a reload there is nothing to fall
 * back to, so errors stop the daemon. */
static int load_initial(const struct options *o)
{
	static struct config c;
	struct daemon_ctx *d = &daemon_ctx;
	char err[CFG_ERR_LEN];

	if (!realpath(o->config, d->cfg_path))
		strlcpy_ok(d->cfg_path, o->config, sizeof(d->cfg_path));
	if (cfg_load(&c, d->cfg_path, err, sizeof(err)) != 0) {
		log_err("not starting: the configuration has errors (autonomyd --check -c %s)",
			o->config);
		return -1;
	}
	strlcpy_ok(d->state_dir, o->state_dir ? o->state_dir : c.main.state_dir,
		   sizeof(d->state_dir));
	if (o->state_dir)
		strlcpy_ok(c.main.state_dir, o->state_dir, sizeof(c.main.state_dir));
	daemon_apply(&c);
	if (o->log_level >= 0)
		log_set_level((enum log_level)o->log_level);
	return 0;
}

static void log_saved_state(const struct state_saved *s)
{
	char ts[RFC3339_LEN];

	if (!s->active[0])
		return;
	log_info("last active member before this start: %s (since %s)", s->active,
		 s->active_since ? fmt_rfc3339(ts, s->active_since) : "unknown");
}

static int run(const struct options *o)
{
	struct daemon_ctx *d = &daemon_ctx;
	char sock_file[CFG_PATH_LEN + 32];
	int rc = 1;

	d->started_wall = wall_ms();
	d->started_mono = mono_ms();
#ifdef __GLIBC__
	/* Large transient buffers (a week of history as JSON, the history file)
	 * go back to the system when freed. By default glibc raises this
	 * threshold after the first such free and keeps later ones in the heap,
	 * and the RSS with them. (musl returns them anyway.) */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
	log_init(o->foreground ? LOG_TO_STDERR : LOG_TO_SYSLOG,
		 o->log_level >= 0 ? (enum log_level)o->log_level : LOG_LVL_INFO);
	evlog_init();
	metrics_init();
	mem_init();
	if (load_initial(o) < 0)
		goto out_mem;
	if (state_init(d->state_dir, &d->saved) < 0)
		goto out_mem;
	log_saved_state(&d->saved);
	d->loop = ev_default_loop(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
	if (!d->loop) {
		log_err("cannot create the event loop");
		goto out_state;
	}
	signals_init(d->loop);
	if (eng_init(d->loop) < 0)
		goto out_signals;
	sampler_init(d->loop);
	mqtt_init(d->loop);
	notify_init(d->loop);
	if (sock_init(d->loop, state_path(sock_file, sizeof(sock_file), "autonomy.sock")) < 0)
		goto out_sampler;
	http_init(d->loop);

	evlog_add("daemon", "start", NULL, NULL, "autonomyd %s started with %d members from %s",
		  AUTONOMY_VERSION, d->cfg.nmembers, d->cfg_path);
	ev_run(d->loop, 0);
	evlog_add("daemon", "stop", NULL, NULL, "autonomyd stopping");
	rc = 0;

	http_fini();
	sock_fini();
out_sampler:
	notify_fini();
	mqtt_fini();
	sampler_fini();
	eng_fini();
out_signals:
	signals_fini(d->loop);
	ev_loop_destroy(d->loop);
out_state:
	d->saved.clean_stop = true;
	state_save(&d->saved);
	state_fini();
out_mem:
	mem_fini();
	metrics_fini();
	evlog_fini();
	log_fini();
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	int rc = parse_args(argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (o.check)
		return check_config(o.config);
	return run(&o);
}
