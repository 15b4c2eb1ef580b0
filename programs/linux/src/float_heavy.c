/* float_heavy: F and D extensions: a 64x64 double matrix multiply, Simpson
   integration, a single-precision dot product, Newton iteration, fused
   multiply-add, conversions. Results printed with %.6f. */
#include <stdio.h>
#include <math.h>
#define N 64
static double A[N][N], B[N][N], C[N][N];
static double f(double x) { return 4.0 / (1.0 + x * x); }
int main(void) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) { A[i][j] = (i + 1) * 0.5 - j * 0.25; B[i][j] = (i == j) ? 2.0 : 1.0 / (i + j + 1); }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) { double s = 0; for (int k = 0; k < N; k++) s += A[i][k] * B[k][j]; C[i][j] = s; }
    double tr = 0, tot = 0;
    for (int i = 0; i < N; i++) { tr += C[i][i]; for (int j = 0; j < N; j++) tot += C[i][j]; }
    printf("matmul trace=%.6f total=%.6f c[3][5]=%.6f\n", tr, tot, C[3][5]);
    int n = 100000; double h = 1.0 / n, s = f(0) + f(1);
    for (int i = 1; i < n; i++) s += f(i * h) * ((i & 1) ? 4 : 2);
    printf("simpson pi=%.6f err<1e-9: %s\n", s * h / 3, fabs(s * h / 3 - 3.14159265358979) < 1e-9 ? "yes" : "no");
    float xs[1000], ys[1000], dot = 0.0f;
    for (int i = 0; i < 1000; i++) { xs[i] = i * 0.001f; ys[i] = 1.0f - i * 0.0005f; }
    for (int i = 0; i < 1000; i++) dot += xs[i] * ys[i];
    printf("float dot=%.6f\n", (double)dot);
    double x = 1.0;
    for (int i = 0; i < 30; i++) x = x - (x * x * x - 2.0) / (3.0 * x * x);
    printf("newton cbrt(2)=%.6f\n", x);
    volatile double a = 1.0 + 1e-8, b = 1.0 - 1e-8, c = -1.0;
    printf("fma=%.6e\n", fma(a, b, c));
    float fa = 16777216.0f; fa += 1.0f;
    printf("float rounding 2^24+1=%.1f\n", (double)fa);
    volatile double neg = -3.75;
    printf("conversions: (int)%d (long)%ld (unsigned)%u (float)%.6f\n", (int)neg, (long)(neg * 1e10), (unsigned)(-neg), (double)(float)(1.0 / 3.0));
    volatile double z = 0.0;
    printf("inf=%f nan=%f -inf<0: %s nan!=nan: %s\n", 1.0 / z, z / z, -1.0 / z < 0 ? "yes" : "no", (z / z) != (z / z) ? "yes" : "no");
    float m = 1.0f; for (int i = 0; i < 50; i++) m = m * 1.1f - 0.05f;
    printf("float recurrence=%.6f min/max=%.6f/%.6f\n", (double)m, fmin(a, b), fmaxf(1.5f, -2.5f));
    return 0;
}
