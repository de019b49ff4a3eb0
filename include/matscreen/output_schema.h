/**
 * @file output_schema.h
 * @brief The layout of the HDF5 output of `matscreen run` (docs/output.md), declared once: every
 *        dataset, root attribute and group attribute with its path, type, width, unit and
 *        description, from output_schema.def. The writer, `matscreen export`, the lab queue's reader, the
 *        surrogate's I/O and `matscreen info output` all take their names from here.
 *
 * Conventions
 * -----------
 * - Identifiers: MS_OUT_<ID> (ms_output_id) for each line MS_OUTPUT_DATASET(ID, ...),
 *   MS_OUTPUT_ATTR(ID, ...) or MS_OUTPUT_GROUP_ATTR(ID, ...) of output_schema.def; MS_OUTW_<ID> is its width as an integer
 *   constant expression (for static assertions against the writer's buffers).
 * - Paths: a dataset's path is absolute ("/candidates/id"); ms_output_name() is its last
 *   component ("id"), for a table's columns or a group given at run time (the surrogate). A
 *   root attribute's path is its name ("schema_version"), the attribute of group "/". A group
 *   attribute's path is its name too ("round"), and ms_output_group() its group ("/shortlist"):
 *   names repeat across groups ("description", "round"), so a group attribute is found by
 *   (group, name) with ms_output_find_attr(), never by ms_output_find(). ms_output_group() of a
 *   root attribute is "/". One "group" is a dataset: /funnel/by_status carries `columns`.
 * - Types: the ms_h5 types of h5out.h (MS_H5_F64 float64, MS_H5_I64 int64, MS_H5_I32 int32,
 *   MS_H5_STR fixed-width NUL-padded string). Attributes written by ms_h5_attr_int are
 *   MS_H5_I64, by ms_h5_attr_double MS_H5_F64.
 * - Width: for a string its width in bytes (0: one text or an attribute, as long as it is);
 *   for numbers the values per row (1 a column, 3 for [n,3], 9 for [n,3,3]); 0 when it is
 *   decided at run time (the status count, the surrogate's descriptor count).
 * - Units: SI-like short forms ("eV/atom", "s", "A", "e", "MiB"); "" when none. The names of the
 *   datasets carry their unit too (design.md), the unit here is for tools and `info output`.
 * - The table is static, constant data: every function is pure, not collective and thread-safe.
 *   Returned pointers are owned by the library and live as long as the program. Functions that
 *   take an ms_output_id accept only values < MS_OUT_COUNT_ (others give NULL, -1 or "").
 */
#ifndef MATSCREEN_OUTPUT_SCHEMA_H
#define MATSCREEN_OUTPUT_SCHEMA_H

#include <stddef.h>

#include "matscreen/h5out.h"

/** Version of this layout: the root attribute `schema_version`. Version 1 had no checksums. */
#define MS_OUTPUT_SCHEMA_VERSION 2

typedef enum {
#define MS_OUTPUT_DATASET(id, path, type, width, unit, desc) MS_OUT_##id,
#define MS_OUTPUT_ATTR(id, name, type, unit, desc) MS_OUT_##id,
#define MS_OUTPUT_GROUP_ATTR(id, group, name, type, unit, desc) MS_OUT_##id,
#include "matscreen/output_schema.def"
#undef MS_OUTPUT_DATASET
#undef MS_OUTPUT_ATTR
#undef MS_OUTPUT_GROUP_ATTR
  MS_OUT_COUNT_
} ms_output_id;

/** Widths as constant expressions: MS_OUTW_CAND_REASON == 128. */
enum {
#define MS_OUTPUT_DATASET(id, path, type, width, unit, desc) MS_OUTW_##id = (width),
#define MS_OUTPUT_ATTR(id, name, type, unit, desc) MS_OUTW_##id = MS_H5_##type == MS_H5_STR ? 0 : 1,
#define MS_OUTPUT_GROUP_ATTR(id, group, name, type, unit, desc) MS_OUTW_##id = MS_H5_##type == MS_H5_STR ? 0 : 1,
#include "matscreen/output_schema.def"
#undef MS_OUTPUT_DATASET
#undef MS_OUTPUT_ATTR
#undef MS_OUTPUT_GROUP_ATTR
};

typedef enum { MS_OUTPUT_DATASET_KIND, MS_OUTPUT_ROOT_ATTR_KIND, MS_OUTPUT_GROUP_ATTR_KIND } ms_output_kind;

/** One line of the schema. */
typedef struct {
  const char *id;          /**< the identifier without MS_OUT_ ("CAND_ID") */
  ms_output_kind kind;
  const char *path;        /**< absolute dataset path, or the attribute's name */
  ms_h5_type type;
  int width;               /**< string width or values per row (see Conventions) */
  const char *unit;        /**< "" when none */
  const char *description; /**< one line */
  const char *group;       /**< an attribute's group ("/" for a root attribute); "" for a dataset */
} ms_output_item;

/** The whole schema in declaration order; *count = MS_OUT_COUNT_. */
const ms_output_item *ms_output_schema(int *count);
/** The line of @p id, or NULL if out of range. */
const ms_output_item *ms_output_item_get(ms_output_id id);
/** Its path ("/candidates/id", or the attribute's name for an attribute); "" if out of range. */
const char *ms_output_path(ms_output_id id);
/** The last component of its path ("id"). */
const char *ms_output_name(ms_output_id id);
/** Its type; MS_H5_STR if out of range (check ms_output_item_get for that). */
ms_h5_type ms_output_type(ms_output_id id);
/** Its width (see Conventions); -1 if out of range. */
int ms_output_width(ms_output_id id);
/** Its unit ("" when none). */
const char *ms_output_unit(ms_output_id id);
/** The group an attribute belongs to ("/shortlist"; "/" for a root attribute); "" for a dataset
 *  or out of range. */
const char *ms_output_group(ms_output_id id);
/** The group holding a dataset ("/checksums" for "/checksums/dataset"), or an attribute's group,
 *  written into @p buf (@p size bytes); returns @p buf, "" if out of range or it does not fit. */
const char *ms_output_parent(ms_output_id id, char *buf, size_t size);
/** The line with this path (dataset) or name (root attribute), or NULL. Group attributes are
 *  not searched (their names repeat): ms_output_find_attr. */
const ms_output_item *ms_output_find(const char *path);
/** The attribute @p name of @p group ("/" for a root attribute), or NULL. */
const ms_output_item *ms_output_find_attr(const char *group, const char *name);
/** "float64", "int64", "int32" or "string". */
const char *ms_output_type_name(ms_h5_type type);

/** Shorthands: MS_OUT_PATH(CAND_ID) is "/candidates/id", MS_OUT_NAME(CAND_ID) is "id",
 *  MS_OUT_GROUP(SL_ATTR_ROUND) is "/shortlist" (write it with
 *  ms_h5_attr_int(f, MS_OUT_GROUP(SL_ATTR_ROUND), MS_OUT_NAME(SL_ATTR_ROUND), round)). */
#define MS_OUT_PATH(id) ms_output_path(MS_OUT_##id)
#define MS_OUT_NAME(id) ms_output_name(MS_OUT_##id)
#define MS_OUT_TYPE(id) ms_output_type(MS_OUT_##id)
#define MS_OUT_GROUP(id) ms_output_group(MS_OUT_##id)

#endif
