/* Placeholder until this test lands: reported as skipped. */
int main(void) { return 77; }
