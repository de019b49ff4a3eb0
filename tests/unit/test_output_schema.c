/* The output schema's lookups (output_schema.h) and the rules its lines must keep: attributes
 * are found by (group, name) because their names repeat across groups, every attribute's group
 * is a group (or, for /funnel/by_status, a dataset) that the declared datasets lie in, and
 * attributes only have the types the attribute writers produce. */
#include <string.h>

#include "matscreen/output_schema.h"
#include "ms_test.h"

/* Does some dataset of the schema lie in @p group, or is @p group itself a dataset? */
static int holds_datasets(const ms_output_item *all, int n, const char *group) {
  size_t len = strlen(group);
  for (int k = 0; k < n; ++k)
    if (all[k].kind == MS_OUTPUT_DATASET_KIND &&
        (strcmp(all[k].path, group) == 0 || (strncmp(all[k].path, group, len) == 0 && all[k].path[len] == '/')))
      return 1;
  return 0;
}

int main(void) {
  char buf[64];
  /* the group of a dataset, from its path */
  MS_TEST_EQ_STR(ms_output_parent(MS_OUT_CHECKSUMS_DATASET, buf, sizeof buf), "/checksums");
  MS_TEST_EQ_STR(ms_output_parent(MS_OUT_HULL_SYSTEMS_NAME, buf, sizeof buf), "/hull/systems");
  MS_TEST_EQ_STR(ms_output_parent(MS_OUT_SL_ATTR_ROUND, buf, sizeof buf), "/shortlist");
  MS_TEST_EQ_STR(ms_output_parent(MS_OUT_ATTR_SEED, buf, sizeof buf), "/");
  MS_TEST_EQ_STR(ms_output_parent(MS_OUT_CHECKSUMS_DATASET, buf, 10), ""); /* "/checksums" needs 11 */
  MS_TEST_EQ_STR(ms_output_parent(MS_OUT_COUNT_, buf, sizeof buf), "");

  /* "round" is an attribute of two groups; ms_output_find knows neither */
  MS_TEST_TRUE(ms_output_find_attr("/shortlist", "round") == ms_output_item_get(MS_OUT_SL_ATTR_ROUND));
  MS_TEST_TRUE(ms_output_find_attr("/lab", "round") == ms_output_item_get(MS_OUT_LAB_ATTR_ROUND));
  MS_TEST_TRUE(ms_output_find("round") == NULL);
  MS_TEST_TRUE(ms_output_find_attr("/", "round") == NULL);
  /* "program_version" is a root attribute and one of the saved surrogate's */
  MS_TEST_TRUE(ms_output_find("program_version") == ms_output_item_get(MS_OUT_ATTR_PROGRAM_VERSION));
  MS_TEST_TRUE(ms_output_find_attr("/", "program_version") == ms_output_item_get(MS_OUT_ATTR_PROGRAM_VERSION));
  MS_TEST_TRUE(ms_output_find_attr("/surrogate/model", "program_version") ==
               ms_output_item_get(MS_OUT_SUR_ATTR_PROGRAM_VERSION));
  MS_TEST_TRUE(ms_output_find_attr("/lab", "/lab/round") == NULL);
  MS_TEST_TRUE(ms_output_find("/lab/round") == ms_output_item_get(MS_OUT_LAB_ROUND));
  MS_TEST_EQ_STR(MS_OUT_GROUP(FUNNEL_BY_STATUS_ATTR_COLUMNS), MS_OUT_PATH(FUNNEL_BY_STATUS));
  MS_TEST_EQ_STR(MS_OUT_NAME(SUR_ATTR_FORMAT), "format");
  MS_TEST_EQ_STR(MS_OUT_GROUP(CAND_ID), "");

  int n = 0;
  const ms_output_item *all = ms_output_schema(&n);
  MS_TEST_EQ_INT(n, MS_OUT_COUNT_);
  int ngroup_attrs = 0;
  for (int k = 0; k < n; ++k) {
    const ms_output_item *it = &all[k];
    if (it->kind == MS_OUTPUT_DATASET_KIND) {
      MS_TEST_TRUE(it->path[0] == '/' && it->group[0] == '\0');
      MS_TEST_TRUE(ms_output_find(it->path) == it); /* paths are unique */
      continue;
    }
    /* ms_h5_attr_str/int/double write strings, int64 and float64 only */
    MS_TEST_TRUE(it->type == MS_H5_STR || it->type == MS_H5_I64 || it->type == MS_H5_F64);
    MS_TEST_TRUE(strchr(it->path, '/') == NULL);
    MS_TEST_TRUE(ms_output_find_attr(it->group, it->path) == it); /* (group, name) is unique */
    if (it->kind == MS_OUTPUT_ROOT_ATTR_KIND) {
      MS_TEST_EQ_STR(it->group, "/");
    } else {
      ++ngroup_attrs;
      if (!holds_datasets(all, n, it->group)) MS_TEST_FAILED_("%s: group %s holds no dataset of the schema", it->id, it->group);
    }
  }
  MS_TEST_TRUE(ngroup_attrs > 0);
  return MS_TEST_RESULT();
}
