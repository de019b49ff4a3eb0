/**
 * @file sha256.h
 * @brief SHA-256 (FIPS 180-4) for the integrity checksums of matscreen's output files.
 *
 * Conventions
 * -----------
 * - Streaming: init, any number of updates, final. The context is a plain struct owned by the
 *   caller; no allocation, no global state, so contexts can be used from several threads.
 * - ms_sha256_hex() writes the 64 lowercase hexadecimal digits and a NUL (65 bytes), the form
 *   Python's hashlib.sha256(...).hexdigest() prints, so scripts can compare digests as strings.
 * - Not collective.
 */
#ifndef MATSCREEN_SHA256_H
#define MATSCREEN_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t h[8];
  uint64_t bytes;         /**< message length so far */
  unsigned char buf[64];  /**< pending partial block */
  size_t nbuf;
} ms_sha256;

void ms_sha256_init(ms_sha256 *s);
void ms_sha256_update(ms_sha256 *s, const void *data, size_t len);
/** Finish and write the 32-byte digest; the context must be initialised again before reuse. */
void ms_sha256_final(ms_sha256 *s, unsigned char digest[32]);
/** Finish and write the digest as 64 lowercase hex digits + NUL. */
void ms_sha256_hex(ms_sha256 *s, char hex[65]);
/** One-shot digest of a buffer, as hex. */
void ms_sha256_buffer_hex(const void *data, size_t len, char hex[65]);

#endif
