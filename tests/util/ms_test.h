/* Minimal test assertions for matscreen's C tests.
 *
 * Each check prints the expression, both values and file:line on failure and counts the
 * failure; the test keeps going so one run shows every broken check. main() ends with
 * `return MS_TEST_RESULT();` (0 pass, 1 fail). MS_TEST_SKIP(reason) exits 77, which meson
 * reports as skipped. */
#ifndef MS_TEST_H
#define MS_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/error.h"

static int ms_test_failures = 0;
static int ms_test_checks = 0;

#define MS_TEST_FAILED_(...)                                          \
  do {                                                                \
    ++ms_test_failures;                                               \
    fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);             \
    fprintf(stderr, __VA_ARGS__);                                     \
    fputc('\n', stderr);                                              \
  } while (0)

#define MS_TEST_TRUE(cond)                                            \
  do {                                                                \
    ++ms_test_checks;                                                 \
    if (!(cond)) MS_TEST_FAILED_("%s", #cond);                        \
  } while (0)

#define MS_TEST_EQ_INT(a, b)                                          \
  do {                                                                \
    ++ms_test_checks;                                                 \
    long long ms_a_ = (long long)(a), ms_b_ = (long long)(b);         \
    if (ms_a_ != ms_b_) MS_TEST_FAILED_("%s == %s: %lld != %lld", #a, #b, ms_a_, ms_b_); \
  } while (0)

#define MS_TEST_EQ_STR(a, b)                                          \
  do {                                                                \
    ++ms_test_checks;                                                 \
    const char *ms_a_ = (a), *ms_b_ = (b);                            \
    if (!ms_a_ || !ms_b_ || strcmp(ms_a_, ms_b_) != 0)                \
      MS_TEST_FAILED_("%s == %s: \"%s\" != \"%s\"", #a, #b, ms_a_ ? ms_a_ : "(null)", \
                      ms_b_ ? ms_b_ : "(null)");                      \
  } while (0)

/* |a - b| <= tol (absolute). */
#define MS_TEST_NEAR(a, b, tol)                                       \
  do {                                                                \
    ++ms_test_checks;                                                 \
    double ms_a_ = (double)(a), ms_b_ = (double)(b), ms_t_ = (double)(tol); \
    if (!(fabs(ms_a_ - ms_b_) <= ms_t_))                              \
      MS_TEST_FAILED_("%s ~ %s: %.17g vs %.17g (diff %.3g > tol %.3g)", #a, #b, ms_a_, ms_b_, \
                      fabs(ms_a_ - ms_b_), ms_t_);                    \
  } while (0)

/* |a - b| <= rtol * |b| (relative to the reference b). */
#define MS_TEST_REL(a, b, rtol)                                       \
  do {                                                                \
    ++ms_test_checks;                                                 \
    double ms_a_ = (double)(a), ms_b_ = (double)(b), ms_t_ = (double)(rtol); \
    if (!(fabs(ms_a_ - ms_b_) <= ms_t_ * fabs(ms_b_)))                \
      MS_TEST_FAILED_("%s ~ %s: %.17g vs %.17g (rel diff %.3g > %.3g)", #a, #b, ms_a_, ms_b_, \
                      fabs(ms_a_ - ms_b_) / fabs(ms_b_), ms_t_);      \
  } while (0)

/* An ms_err call must succeed; prints the error message otherwise. */
#define MS_TEST_OK(expr)                                              \
  do {                                                                \
    ++ms_test_checks;                                                 \
    ms_err ms_e_ = (expr);                                            \
    if (ms_e_ != MS_SUCCESS)                                          \
      MS_TEST_FAILED_("%s returned %s: %s", #expr, ms_err_name(ms_e_), ms_err_message()); \
  } while (0)

/* An ms_err call must fail with @p code; the message must contain @p substr (or NULL). */
#define MS_TEST_ERR(expr, code, substr)                               \
  do {                                                                \
    ++ms_test_checks;                                                 \
    ms_err ms_e_ = (expr);                                            \
    const char *ms_s_ = (substr);                                     \
    if (ms_e_ != (code))                                              \
      MS_TEST_FAILED_("%s returned %s, expected %s (%s)", #expr, ms_err_name(ms_e_), \
                      ms_err_name(code), ms_err_message());           \
    else if (ms_s_ && !strstr(ms_err_message(), ms_s_))               \
      MS_TEST_FAILED_("%s: message \"%s\" lacks \"%s\"", #expr, ms_err_message(), ms_s_); \
    ms_err_clear();                                                   \
  } while (0)

#define MS_TEST_SKIP(reason)                                          \
  do {                                                                \
    fprintf(stderr, "SKIP: %s\n", reason);                            \
    exit(77);                                                         \
  } while (0)

#define MS_TEST_RESULT()                                              \
  (fprintf(stderr, "%d checks, %d failed\n", ms_test_checks, ms_test_failures), \
   ms_test_failures ? 1 : 0)

#endif
