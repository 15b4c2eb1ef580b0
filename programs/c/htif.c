/* htif.c: HTIF console, write and exit, and a small printf (see htif.h). */
#include "htif.h"

extern volatile uint64_t tohost;
extern volatile uint64_t fromhost;

/* The syscall block must be 64-byte aligned: [number, arg0, arg1, arg2, ...]. */
static volatile uint64_t magic_mem[8] __attribute__((aligned(64)));

void htif_putc(char c)
{
    tohost = (1ULL << 56) | (1ULL << 48) | (unsigned char)c;
    while (tohost != 0)
        ;
}

long htif_write(const void *buf, size_t len)
{
    magic_mem[0] = 64; /* write */
    magic_mem[1] = 1;  /* stdout */
    magic_mem[2] = (uint64_t)(uintptr_t)buf;
    magic_mem[3] = len;
    __asm__ volatile("fence" ::: "memory");
    tohost = (uint64_t)(uintptr_t)magic_mem;
    while (fromhost == 0)
        ;
    fromhost = 0;
    __asm__ volatile("fence" ::: "memory");
    return (long)magic_mem[0];
}

void htif_exit(int code)
{
    for (;;)
        tohost = ((uint64_t)code << 1) | 1;
}

void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

void *memmove(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    if (p < q) {
        while (n--)
            *p++ = *q++;
    } else {
        while (n--)
            p[n] = q[n];
    }
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p - *q;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

struct out {
    char *buf;
    size_t size, len;
};

static void emit(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void emit_num(struct out *o, unsigned long long v, int base, int upper, int neg,
                     int width, int zero, int left)
{
    char tmp[24];
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    int len = n + neg;
    if (neg && zero)
        emit(o, '-');
    if (!left)
        for (; len < width; width--)
            emit(o, zero ? '0' : ' ');
    if (neg && !zero)
        emit(o, '-');
    while (n)
        emit(o, tmp[--n]);
    if (left)
        for (; len < width; width--)
            emit(o, ' ');
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = {buf, size, 0};
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            emit(&o, *fmt);
            continue;
        }
        fmt++;
        int zero = 0, left = 0, width = 0, lng = 0;
        for (;; fmt++) {
            if (*fmt == '0')
                zero = 1;
            else if (*fmt == '-')
                left = 1;
            else
                break;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z') {
            lng++;
            fmt++;
        }
        switch (*fmt) {
        case 'd':
        case 'i': {
            long long v = lng ? va_arg(ap, long) : va_arg(ap, int);
            unsigned long long u = v < 0 ? -(unsigned long long)v : (unsigned long long)v;
            emit_num(&o, u, 10, 0, v < 0, width, zero, left);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            unsigned long long v = lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            emit_num(&o, v, *fmt == 'u' ? 10 : 16, *fmt == 'X', 0, width, zero, left);
            break;
        }
        case 'p':
            emit(&o, '0');
            emit(&o, 'x');
            emit_num(&o, (uintptr_t)va_arg(ap, void *), 16, 0, 0, width, zero, left);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            int n = (int)strlen(s);
            if (!left)
                for (; n < width; width--)
                    emit(&o, ' ');
            while (*s)
                emit(&o, *s++);
            if (left)
                for (; n < width; width--)
                    emit(&o, ' ');
            break;
        }
        case 'c':
            emit(&o, (char)va_arg(ap, int));
            break;
        case '%':
            emit(&o, '%');
            break;
        case 0:
            fmt--;
            break;
        default:
            emit(&o, '%');
            emit(&o, *fmt);
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = 0;
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int printf(const char *fmt, ...)
{
    static char buf[512] __attribute__((aligned(64)));
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
    htif_write(buf, len);
    return n;
}

int puts(const char *s)
{
    while (*s)
        htif_putc(*s++);
    htif_putc('\n');
    return 0;
}
