/* htif.h: the host-target interface (as Spike and vmlab implement it) and a small
   printf for bare-metal programs. */
#ifndef HTIF_H
#define HTIF_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Print one character through device 1, command 1 (console). */
void htif_putc(char c);
/* write(1, buf, len) through the syscall block (device 0, syscall 64). Returns the
   host's result (len on success). */
long htif_write(const void *buf, size_t len);
/* Exit with `code` (0 = pass): tohost = (code << 1) | 1. */
void htif_exit(int code) __attribute__((noreturn));

/* printf subset: %d %i %u %x %X %p %s %c %%, the l / ll / z length modifiers, a field
   width and the 0 and - flags. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...);
int printf(const char *fmt, ...);
int puts(const char *s);

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
#endif
