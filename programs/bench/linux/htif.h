/* linux/htif.h: under Linux the benchmarks print with the C library (build-linux.sh puts
 * this folder first on the include path, in place of ../c/htif.h). */
#ifndef HTIF_H
#define HTIF_H
#include <stdint.h>
#include <stdio.h>
#endif
