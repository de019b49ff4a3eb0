/* The output schema's table (output_schema.h), expanded from output_schema.def. */
#include "matscreen/output_schema.h"

#include <string.h>

static const ms_output_item schema[MS_OUT_COUNT_] = {
#define MS_OUTPUT_DATASET(id, path, type, width, unit, desc) \
  [MS_OUT_##id] = {#id, MS_OUTPUT_DATASET_KIND, path, MS_H5_##type, width, unit, desc},
#define MS_OUTPUT_ATTR(id, name, type, unit, desc) \
  [MS_OUT_##id] = {#id, MS_OUTPUT_ROOT_ATTR_KIND, name, MS_H5_##type, MS_H5_##type == MS_H5_STR ? 0 : 1, unit, desc},
#include "matscreen/output_schema.def"
#undef MS_OUTPUT_DATASET
#undef MS_OUTPUT_ATTR
};

const ms_output_item *ms_output_schema(int *count) {
  if (count) *count = MS_OUT_COUNT_;
  return schema;
}

const ms_output_item *ms_output_item_get(ms_output_id id) {
  return (int)id >= 0 && id < MS_OUT_COUNT_ ? &schema[id] : NULL;
}

const char *ms_output_path(ms_output_id id) {
  const ms_output_item *it = ms_output_item_get(id);
  return it ? it->path : "";
}

const char *ms_output_name(ms_output_id id) {
  const char *p = ms_output_path(id), *slash = strrchr(p, '/');
  return slash ? slash + 1 : p;
}

ms_h5_type ms_output_type(ms_output_id id) {
  const ms_output_item *it = ms_output_item_get(id);
  return it ? it->type : MS_H5_STR;
}

int ms_output_width(ms_output_id id) {
  const ms_output_item *it = ms_output_item_get(id);
  return it ? it->width : -1;
}

const char *ms_output_unit(ms_output_id id) {
  const ms_output_item *it = ms_output_item_get(id);
  return it ? it->unit : "";
}

const ms_output_item *ms_output_find(const char *path) {
  for (int k = 0; path && k < MS_OUT_COUNT_; ++k)
    if (strcmp(schema[k].path, path) == 0) return &schema[k];
  return NULL;
}

const char *ms_output_type_name(ms_h5_type type) {
  switch (type) {
    case MS_H5_F64: return "float64";
    case MS_H5_I64: return "int64";
    case MS_H5_I32: return "int32";
    case MS_H5_STR: return "string";
  }
  return "?";
}
