/* Error records: names and messages from the one list, context, traceback, clearing. */
#include "matscreen/error.h"
#include "ms_test.h"

static ms_err inner(int x) {
  MS_CHECK(x > 0, MS_ERR_INPUT, "campaign.yaml:12:7: funnel[1].keep.top_fraction must be in (0, 1], got %g", 1.5);
  return MS_SUCCESS;
}
static ms_err outer(int x) {
  MS_CALL(inner(x));
  return MS_SUCCESS;
}

int main(void) {
  MS_TEST_EQ_STR(ms_err_name(MS_SUCCESS), "SUCCESS");
  MS_TEST_EQ_STR(ms_err_name(MS_ERR_INPUT), "INPUT");
  MS_TEST_EQ_STR(ms_err_name((ms_err)9999), "UNKNOWN");
  MS_TEST_EQ_STR(ms_strerror(MS_ERR_MEM), "out of memory");
  MS_TEST_EQ_INT(outer(1), MS_SUCCESS);
  MS_TEST_EQ_INT(ms_err_last(), MS_SUCCESS);
  MS_TEST_EQ_INT(outer(0), MS_ERR_INPUT);
  MS_TEST_EQ_INT(ms_err_last(), MS_ERR_INPUT);
  MS_TEST_EQ_STR(ms_err_message(),
                 "campaign.yaml:12:7: funnel[1].keep.top_fraction must be in (0, 1], got 1.5");
  /* two frames: inner (where it was raised) and outer (where it was propagated) */
  MS_TEST_TRUE(strstr(ms_err_traceback(), "(inner)") != NULL);
  MS_TEST_TRUE(strstr(ms_err_traceback(), "(outer)") != NULL);
  ms_err_clear();
  MS_TEST_EQ_STR(ms_err_message(), "");
  /* very long messages are truncated, not overflowed */
  char big[5000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  MS_TEST_EQ_INT(ms__err_set(MS_ERR_INPUT, __FILE__, __LINE__, __func__, "%s", big), MS_ERR_INPUT);
  MS_TEST_TRUE(strlen(ms_err_message()) < 1100);
  MS_TEST_TRUE(strstr(ms_err_message(), "...") != NULL);
  /* allocation helper reports overflow instead of wrapping */
  double *p = NULL;
  MS_TEST_ERR(MS_CALLOC((size_t)-1 / 4, &p), MS_ERR_MEM, "overflows");
  MS_TEST_OK(MS_CALLOC(10, &p));
  free(p);
  return MS_TEST_RESULT();
}
