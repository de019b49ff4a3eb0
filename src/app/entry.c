/* matscreen's entry point: everything is in ms_app_main (main.c). */
#include "app.h"

int main(int argc, char **argv) { return ms_app_main(argc, argv); }
