/* `matscreen info output [--json]`: the layout of the HDF5 output, printed from the output
 * schema the writer and the readers use (output_schema.h), so the listing cannot drift from the
 * file; tests/docs/check_output_doc.py compares it with docs/output.md. */
#include <stdio.h>

#include "app.h"
#include "core/json.h"
#include "matscreen/output_schema.h"

static const char *kind_name(ms_output_kind k) {
  return k == MS_OUTPUT_ROOT_ATTR_KIND ? "root_attribute" : k == MS_OUTPUT_GROUP_ATTR_KIND ? "group_attribute" : "dataset";
}

int ms_info_output(int argc, char **argv, int json) {
  (void)argv;
  if (argc > 1) return ms_app_usage_error("info", "'info output' takes no arguments");
  if (ms_app_rank() != 0) return 0;
  int n = 0;
  const ms_output_item *all = ms_output_schema(&n);
  if (json) {
    ms_jbuf b;
    ms_jb_init(&b);
    ms_jb_printf(&b, "{\"schema_version\": %d, \"items\": [", MS_OUTPUT_SCHEMA_VERSION);
    for (int k = 0; k < n; ++k) {
      const ms_output_item *it = &all[k];
      ms_jb_raw(&b, k ? ", {" : "{");
      ms_jb_key(&b, "id", 1);
      ms_jb_str(&b, it->id);
      ms_jb_key(&b, "kind", 0);
      ms_jb_str(&b, kind_name(it->kind));
      ms_jb_key(&b, "path", 0);
      ms_jb_str(&b, it->path);
      if (it->kind != MS_OUTPUT_DATASET_KIND) {
        ms_jb_key(&b, "group", 0);
        ms_jb_str(&b, it->group);
      }
      ms_jb_key(&b, "type", 0);
      ms_jb_str(&b, ms_output_type_name(it->type));
      ms_jb_key(&b, "width", 0);
      ms_jb_num(&b, it->width);
      ms_jb_key(&b, "unit", 0);
      ms_jb_str(&b, it->unit);
      ms_jb_key(&b, "description", 0);
      ms_jb_str(&b, it->description);
      ms_jb_raw(&b, "}");
    }
    ms_jb_raw(&b, "]}\n");
    fputs(b.s ? b.s : "", stdout);
    ms_jb_free(&b);
    return 0;
  }
  printf("the HDF5 output of 'matscreen run', schema version %d (docs/output.md)\n"
         "width: string bytes (0 = one text) or values per row (0 = set by the run)\n",
         MS_OUTPUT_SCHEMA_VERSION);
  /* One list per kind, each in the schema's order (a group's attributes follow its datasets
   * there; here they are listed together, as GROUP@NAME). */
  static const struct {
    ms_output_kind kind;
    const char *title;
  } kinds[] = {{MS_OUTPUT_ROOT_ATTR_KIND, "root attributes"},
               {MS_OUTPUT_DATASET_KIND, "datasets"},
               {MS_OUTPUT_GROUP_ATTR_KIND, "group attributes"}};
  for (size_t q = 0; q < sizeof kinds / sizeof kinds[0]; ++q) {
    printf("\n%s:\n", kinds[q].title);
    for (int k = 0; k < n; ++k) {
      const ms_output_item *it = &all[k];
      if (it->kind != kinds[q].kind) continue;
      char where[128];
      if (it->kind == MS_OUTPUT_GROUP_ATTR_KIND) snprintf(where, sizeof where, "%s@%s", it->group, it->path);
      else snprintf(where, sizeof where, "%s", it->path);
      printf("  %-46s %-8s %4d  %-8s %s\n", where, ms_output_type_name(it->type), it->width,
             it->unit[0] ? it->unit : "-", it->description);
    }
  }
  return 0;
}
