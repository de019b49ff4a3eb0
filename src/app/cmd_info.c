/* Placeholder until `matscreen info` lands. */
#include "app.h"
const char ms_usage_info[] = "usage: matscreen info elements|species\n";
int ms_cmd_info(int argc, char **argv) { (void)argc; (void)argv; return ms_app_usage_error("info", "not implemented yet"); }
