/* Internal to src/io: the digests shared by the writer (h5out.c) and the checker (h5verify.c),
 * defined once so that the two cannot disagree. The byte streams are specified in h5verify.h. */
#ifndef MS_IO_H5_DIGEST_H
#define MS_IO_H5_DIGEST_H

#include <hdf5.h>
#include <stddef.h>

#include "matscreen/output_schema.h"
#include "matscreen/sha256.h"

/* The manifest and the two digest attributes are lines of the output schema; their names are
 * taken from there (output_schema.def: CHECKSUMS_*, ATTR_*_SHA256). */
#define MS_H5_ROOT_DIGEST_ATTR MS_OUT_PATH(ATTR_ROOT_ATTRIBUTES_SHA256)
#define MS_H5_MANIFEST_DIGEST_ATTR MS_OUT_PATH(ATTR_CHECKSUMS_SHA256)

/* Hash @p nbytes of values of @p elem bytes each in little-endian byte order, whatever the
 * host's order (elem 1 for strings). */
void ms__h5_hash_values(ms_sha256 *s, const void *data, size_t nbytes, size_t elem);
/* Digest of every root attribute except MS_H5_ROOT_DIGEST_ATTR; 0 on success, -1 when an
 * attribute cannot be read or has a type the output never writes. */
int ms__h5_root_attr_digest(hid_t file, char hex[65]);

#endif
