/* Small helpers shared by every module: allocation that never returns NULL,
 * time, string copies. */
#ifndef AUTONOMY_UTIL_H
#define AUTONOMY_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
/* json-c flags for everything we print: one line, "/" not escaped. */
#define JSON_PLAIN	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#endif

/* These abort with a message on out-of-memory: a router daemon that cannot
 * allocate a few bytes has nothing sensible left to do, and procd respawns it. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);

/* Copies at most size-1 bytes and always terminates; returns false if cut. */
bool strlcpy_ok(char *dst, const char *src, size_t size);

/* Monotonic milliseconds (never jumps with the wall clock). */
int64_t mono_ms(void);
/* Wall-clock milliseconds since the epoch. */
int64_t wall_ms(void);

#define RFC3339_LEN 32
/* "2026-11-27T14:05:47Z" (UTC, whole seconds); buf must hold RFC3339_LEN. */
char *fmt_rfc3339(char *buf, int64_t wall_msec);
/* Parses the same form back; returns -1 if it is not one. */
int64_t parse_rfc3339(const char *s);

/* Reads a whole small file (at most max bytes) into a NUL-terminated buffer.
 * Returns the length or -errno; *out is malloc'd. */
long read_file(const char *path, size_t max, char **out);
/* Writes data to path atomically: path.tmp in the same directory, fsync, rename.
 * Returns 0 or -errno. */
int write_file_atomic(const char *path, const char *data, size_t len, unsigned mode);

/* CRC-32 (IEEE 802.3, as zlib's crc32) of len bytes. */
uint32_t crc32_ieee(const uint8_t *p, size_t len);

#endif
