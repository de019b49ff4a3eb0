/* The output schema's table (output_schema.h), expanded from output_schema.def. */
#include "matscreen/output_schema.h"

#include <stdio.h>
#include <string.h>

static const ms_output_item schema[MS_OUT_COUNT_] = {
#define MS_OUTPUT_DATASET(id, path, type, width, unit, desc) \
  [MS_OUT_##id] = {#id, MS_OUTPUT_DATASET_KIND, path, MS_H5_##type, width, unit, desc, ""},
#define MS_OUTPUT_ATTR(id, name, type, unit, desc) \
  [MS_OUT_##id] = {#id, MS_OUTPUT_ROOT_ATTR_KIND, name, MS_H5_##type, MS_H5_##type == MS_H5_STR ? 0 : 1, unit, desc, "/"},
#define MS_OUTPUT_GROUP_ATTR(id, group, name, type, unit, desc) \
  [MS_OUT_##id] = {#id, MS_OUTPUT_GROUP_ATTR_KIND, name, MS_H5_##type, MS_H5_##type == MS_H5_STR ? 0 : 1, unit, desc, group},
#include "matscreen/output_schema.def"
#undef MS_OUTPUT_DATASET
#undef MS_OUTPUT_ATTR
#undef MS_OUTPUT_GROUP_ATTR
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

const char *ms_output_group(ms_output_id id) {
  const ms_output_item *it = ms_output_item_get(id);
  return it ? it->group : "";
}

const char *ms_output_parent(ms_output_id id, char *buf, size_t size) {
  const ms_output_item *it = ms_output_item_get(id);
  if (!buf || size == 0) return "";
  buf[0] = '\0';
  if (!it) return buf;
  if (it->kind != MS_OUTPUT_DATASET_KIND) {
    if (strlen(it->group) < size) snprintf(buf, size, "%s", it->group);
    return buf;
  }
  /* Datasets are absolute paths below a group: "/checksums/dataset" -> "/checksums". */
  size_t len = (size_t)(strrchr(it->path, '/') - it->path);
  if (len == 0) len = 1; /* a dataset of the root group */
  if (len < size) snprintf(buf, size, "%.*s", (int)len, it->path);
  return buf;
}

const ms_output_item *ms_output_find(const char *path) {
  for (int k = 0; path && k < MS_OUT_COUNT_; ++k)
    if (schema[k].kind != MS_OUTPUT_GROUP_ATTR_KIND && strcmp(schema[k].path, path) == 0) return &schema[k];
  return NULL;
}

const ms_output_item *ms_output_find_attr(const char *group, const char *name) {
  for (int k = 0; group && name && k < MS_OUT_COUNT_; ++k)
    if (schema[k].kind != MS_OUTPUT_DATASET_KIND && strcmp(schema[k].group, group) == 0 &&
        strcmp(schema[k].path, name) == 0)
      return &schema[k];
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
