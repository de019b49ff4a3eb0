/* YAML tree: positions, typed accessors, unknown-key suggestions, duplicate keys, alias
 * sharing and the alias-bomb guard, syntax errors with line and column. */
#include "matscreen/yaml.h"
#include "ms_test.h"

static ms_ydoc *parse(const char *text) {
  ms_ydoc *d = NULL;
  ms_err e = ms_ydoc_parse(text, strlen(text), "campaign.yaml", &d);
  if (e) fprintf(stderr, "parse: %s\n", ms_err_message());
  return d;
}

int main(void) {
  const char *text =
      "campaign: {name: demo, seed: 42}\n"
      "funnel:\n"
      "  - {stage: prefilter}\n"
      "  - stage: single_point\n"
      "    keep: {top_fraction: 1.5}\n"
      "flag: yes\n"
      "quoted: \"12\"\n"
      "empty:\n"
      "vec: [1, 2.5, -3e-2]\n"
      "formul_units: [1, 4]\n";
  ms_ydoc *d = parse(text);
  MS_TEST_TRUE(d != NULL);
  ms_ynode *root = ms_ydoc_root(d);
  MS_TEST_EQ_INT(root->type, MS_YMAP);
  ms_ynode *camp = ms_ynode_get(root, "campaign");
  long long seed = 0;
  MS_TEST_OK(ms_ynode_int(ms_ynode_get(camp, "seed"), "campaign.seed", &seed));
  MS_TEST_EQ_INT(seed, 42);
  ms_ynode *funnel = ms_ynode_get(root, "funnel");
  MS_TEST_EQ_INT(funnel->type, MS_YSEQ);
  MS_TEST_EQ_INT(funnel->n, 2);
  ms_ynode *keep = ms_ynode_get(funnel->items[1], "keep");
  ms_ynode *tf = ms_ynode_get(keep, "top_fraction");
  MS_TEST_EQ_INT(tf->line, 5);
  MS_TEST_EQ_INT(tf->col, 26);
  double x = 0;
  MS_TEST_OK(ms_ynode_double(tf, "funnel[1].keep.top_fraction", &x));
  MS_TEST_NEAR(x, 1.5, 0);
  MS_TEST_ERR(ms_ynode_error(tf, "funnel[1].keep.top_fraction", "must be in (0, 1], got %g", x),
              MS_ERR_INPUT, "campaign.yaml:5:26: funnel[1].keep.top_fraction: must be in (0, 1], got 1.5");
  int flag = 0;
  MS_TEST_OK(ms_ynode_bool(ms_ynode_get(root, "flag"), "flag", &flag));
  MS_TEST_EQ_INT(flag, 1);
  /* a quoted scalar is a string, never a number */
  MS_TEST_ERR(ms_ynode_int(ms_ynode_get(root, "quoted"), "quoted", &seed), MS_ERR_INPUT, "must be an integer");
  MS_TEST_EQ_INT(ms_ynode_get(root, "empty")->type, MS_YNULL);
  double v[3];
  MS_TEST_OK(ms_ynode_doubles(ms_ynode_get(root, "vec"), "vec", v, 3));
  MS_TEST_NEAR(v[2], -0.03, 0);
  MS_TEST_ERR(ms_ynode_doubles(ms_ynode_get(root, "vec"), "vec", v, 2), MS_ERR_INPUT, "list of 2 numbers");
  MS_TEST_ERR(ms_ynode_double(ms_ynode_get(camp, "name"), "campaign.name", &x), MS_ERR_INPUT,
              "campaign.yaml:1:18: campaign.name: must be a finite number, got 'demo'");
  /* the one key nobody read is reported with a suggestion */
  static const char *const keys[] = {"campaign", "funnel", "flag", "quoted", "empty", "vec", "formula_units", NULL};
  MS_TEST_ERR(ms_ynode_check_unused(root, "", keys), MS_ERR_INPUT,
              "campaign.yaml:10:1: formul_units: unknown key (did you mean 'formula_units'?)");
  ms_ydoc_free(&d);
  MS_TEST_TRUE(d == NULL);

  /* errors: syntax (with position), duplicate keys, two documents, NUL bytes */
  ms_ydoc *bad = NULL;
  MS_TEST_ERR(ms_ydoc_parse("a: [1, 2\nb: 3\n", 14, "x.yaml", &bad), MS_ERR_YAML, "x.yaml:");
  MS_TEST_ERR(ms_ydoc_parse("a: 1\nb: 2\na: 3\n", 15, "x.yaml", &bad), MS_ERR_YAML,
              "x.yaml:3:1: duplicate key 'a' (first at line 1)");
  MS_TEST_ERR(ms_ydoc_parse("a: 1\n---\nb: 2\n", 14, "x.yaml", &bad), MS_ERR_YAML, "one YAML document");
  MS_TEST_ERR(ms_ydoc_parse("a: 1\n\0b", 8, "x.yaml", &bad), MS_ERR_YAML, "x.yaml:2: file contains a NUL byte");
  MS_TEST_TRUE(bad == NULL);

  /* aliases share nodes; a bomb is refused quickly */
  d = parse("base: &b {x: 1}\nuse: *b\n");
  MS_TEST_TRUE(ms_ynode_get(ms_ydoc_root(d), "base") == ms_ynode_get(ms_ydoc_root(d), "use"));
  ms_ydoc_free(&d);
  char bomb[4096];
  int n = snprintf(bomb, sizeof bomb, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
  for (int k = 1; k < 10; ++k)
    n += snprintf(bomb + n, sizeof bomb - (size_t)n,
                  "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", k, k,
                  k - 1, k - 1, k - 1, k - 1, k - 1, k - 1, k - 1, k - 1, k - 1, k - 1);
  MS_TEST_ERR(ms_ydoc_parse(bomb, (size_t)n, "bomb.yaml", &bad), MS_ERR_YAML, "alias bomb");

  /* suggestions */
  static const char *const words[] = {"top_fraction", "top_k", "max_energy_per_atom", NULL};
  MS_TEST_EQ_STR(ms_suggest("top_fracton", words), "top_fraction");
  MS_TEST_TRUE(ms_suggest("zzzzzz", words) == NULL);
  return MS_TEST_RESULT();
}
