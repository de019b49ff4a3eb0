/* SHA-256 against the examples of FIPS 180-2 (appendix B: "abc", the 448-bit two-block message
 * and one million 'a') and against digests from Python's hashlib (the reader that checks our
 * output files), fed in uneven pieces so every path through the block buffer runs. */
#include <string.h>

#include "matscreen/sha256.h"
#include "ms_test.h"

static void pieces_hex(const char *msg, size_t len, size_t step, char hex[65]) {
  ms_sha256 s;
  ms_sha256_init(&s);
  for (size_t k = 0; k < len; k += step) ms_sha256_update(&s, msg + k, len - k < step ? len - k : step);
  ms_sha256_hex(&s, hex);
}

int main(void) {
  char hex[65];
  ms_sha256_buffer_hex("abc", 3, hex);
  MS_TEST_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  ms_sha256_buffer_hex(two, strlen(two), hex);
  MS_TEST_EQ_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  ms_sha256_buffer_hex("", 0, hex);
  MS_TEST_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  char *million = malloc(1000000);
  memset(million, 'a', 1000000);
  for (size_t step = 1; step <= 1000000; step *= 1000) {
    pieces_hex(million, 1000000, step == 1 ? 7 : step + 13, hex);
    MS_TEST_EQ_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  }
  free(million);
  /* lengths around the padding boundary (55, 56, 63, 64, 65 bytes); digests from
   * python3 -c "import hashlib; print(hashlib.sha256(b'x'*n).hexdigest())" */
  static const struct { size_t n; const char *hex; } edge[] = {
      {55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
      {56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
      {63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
      {64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
      {65, "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9"},
  };
  char xs[65];
  memset(xs, 'x', sizeof xs);
  for (size_t k = 0; k < sizeof edge / sizeof edge[0]; ++k) {
    pieces_hex(xs, edge[k].n, 5, hex);
    MS_TEST_EQ_STR(hex, edge[k].hex);
  }
  return MS_TEST_RESULT();
}
