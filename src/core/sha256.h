/* SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104): the webhook signature
 * needs nothing more, and a crypto library for it would cost megabytes of RSS. */
#ifndef AUTONOMY_SHA256_H
#define AUTONOMY_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN	32
#define SHA256_BLOCK	64

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;			/* hashed so far */
	uint8_t buf[SHA256_BLOCK];
	size_t fill;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[SHA256_LEN]);
void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);
void hmac_sha256(const uint8_t *key, size_t klen, const uint8_t *data, size_t dlen,
		 uint8_t out[SHA256_LEN]);

#endif
