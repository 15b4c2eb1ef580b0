/* matmul.c: compute-bound benchmark. C = A * B for N x N int32 matrices (i-j-k order, so
   B is walked by columns across pages), then a polynomial hash of C. N = 200 (about
   57 M instructions), N = 30 with -DSMALL. */
#include "bench.h"

#ifdef SMALL
#define N 30
#define WANT 0x57f33cdad1f17d4aULL
#else
#define N 200
#define WANT 0x6e77dbda5c0b6f77ULL
#endif

static int32_t A[N][N], B[N][N], C[N][N];

int main(void)
{
    uint64_t i0 = rdinstret(), c0 = rdcycle();
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            A[i][j] = (int32_t)((i * 7 + j * 3) % 17) - 8;
            B[i][j] = (int32_t)((i * 5 + j * 11) % 13) - 6;
        }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            int32_t t = 0;
            for (int k = 0; k < N; k++)
                t += A[i][k] * B[k][j];
            C[i][j] = t;
        }
    uint64_t h = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            h = h * 31 + (uint32_t)C[i][j];
    return bench_report("matmul", h, WANT, i0, c0);
}
