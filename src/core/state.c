#include "core/state.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

static char state_dir[CFG_PATH_LEN];
static int pid_fd = -1;

const char *state_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", state_dir, name);
	return buf;
}

static int mkdir_p(const char *dir)
{
	char tmp[CFG_PATH_LEN];

	strlcpy_ok(tmp, dir, sizeof(tmp));
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int lock_pidfile(void)
{
	char path[PATH_MAX], buf[32];
	int fd, len;

	state_path(path, sizeof(path), "autonomyd.pid");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;

		len = (int)read(fd, buf, sizeof(buf) - 1);
		buf[len > 0 ? len : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		log_err("another autonomyd (pid %s) is running with state directory %s",
			*buf ? buf : "?", state_dir);
		close(fd);
		return err == EWOULDBLOCK ? -EEXIST : -err;
	}
	len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len)
		log_warn("cannot write %s: %s", path, strerror(errno));
	pid_fd = fd;
	return 0;
}

static void load_saved(struct state_saved *saved)
{
	struct json_object *obj, *v;
	char path[PATH_MAX], *text;
	long len;

	memset(saved, 0, sizeof(*saved));
	len = read_file(state_path(path, sizeof(path), "state.json"), 65536, &text);
	if (len < 0) {
		if (len != -ENOENT)
			log_warn("cannot read %s: %s", path, strerror((int)-len));
		return;
	}
	obj = json_tokener_parse(text);
	free(text);
	if (!json_object_is_type(obj, json_type_object)) {
		log_warn("%s is not a JSON object; ignoring it", path);
		json_object_put(obj);
		return;
	}
	if (json_object_object_get_ex(obj, "active", &v) && json_object_is_type(v, json_type_string))
		strlcpy_ok(saved->active, json_object_get_string(v), sizeof(saved->active));
	if (json_object_object_get_ex(obj, "active_since", &v) &&
	    json_object_is_type(v, json_type_string))
		saved->active_since = parse_rfc3339(json_object_get_string(v));
	if (saved->active_since < 0)
		saved->active_since = 0;
	/* Files of versions without the marker say nothing about a crash. */
	if (json_object_object_get_ex(obj, "clean_stop", &v) &&
	    json_object_is_type(v, json_type_boolean))
		saved->crashed = !json_object_get_boolean(v);
	json_object_put(obj);
}

int state_init(const char *dir, struct state_saved *saved)
{
	int rc;

	memset(saved, 0, sizeof(*saved));
	if (!strlcpy_ok(state_dir, dir, sizeof(state_dir)))
		return -ENAMETOOLONG;
	rc = mkdir_p(dir);
	if (rc < 0) {
		log_err("cannot create state directory %s: %s", dir, strerror(-rc));
		return rc;
	}
	rc = lock_pidfile();
	if (rc < 0)
		return rc;
	load_saved(saved);
	saved->clean_stop = false;
	state_save(saved);
	return 0;
}

void state_fini(void)
{
	char path[PATH_MAX];

	if (pid_fd < 0)
		return;
	unlink(state_path(path, sizeof(path), "autonomyd.pid"));
	close(pid_fd);
	pid_fd = -1;
}

int state_save(const struct state_saved *s)
{
	struct json_object *obj = json_object_new_object();
	char path[PATH_MAX], ts[RFC3339_LEN];
	const char *text;
	int rc;

	json_object_object_add(obj, "active", *s->active ? json_object_new_string(s->active) : NULL);
	json_object_object_add(obj, "active_since",
			       s->active_since ? json_object_new_string(fmt_rfc3339(ts, s->active_since))
					       : NULL);
	json_object_object_add(obj, "clean_stop", json_object_new_boolean(s->clean_stop));
	text = json_object_to_json_string_ext(obj, JSON_PLAIN);
	rc = write_file_atomic(state_path(path, sizeof(path), "state.json"), text, strlen(text), 0644);
	if (rc < 0)
		log_warn("cannot write %s: %s", path, strerror(-rc));
	json_object_put(obj);
	return rc;
}
