/* Placeholder until this module lands. */
typedef int ms__placeholder_cell;
