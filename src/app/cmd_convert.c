/* Placeholder until `matscreen convert` lands. */
#include "app.h"
const char ms_usage_convert[] = "usage: matscreen convert IN OUT [--format FMT]\n";
int ms_cmd_convert(int argc, char **argv) { (void)argc; (void)argv; return ms_app_usage_error("convert", "not implemented yet"); }
