/* printf_float: double formatting with %f %e %g %a, negatives, large and small values. */
#include <stdio.h>
int main(void) {
    double v[] = {0.0, -0.0, 1.0, -1.5, 3.14159265358979, 2.718281828459045,
                  1e-10, -6.02214076e23, 1.7976931348623157e308, 4.9e-324,
                  123456789.125, 0.1, 1.0 / 3.0, -2.5e-5, 1e21, 100.0};
    int n = sizeof v / sizeof v[0];
    for (int i = 0; i < n; i++) {
        printf("%2d: %%f=%f %%e=%e %%g=%g %%.3f=%.3f %%.10g=%.10g\n", i, v[i], v[i], v[i], v[i], v[i]);
    }
    printf("[%10.2f] [%-10.2f] [%+.1e] [%010.3f] [%G] [%E]\n", 3.14159, 2.71828, 12345.678, -1.5, 1e-20, 6.5e100);
    printf("[%a] [%A]\n", 1.0, -0.75);
    double big = 1.0;
    for (int i = 0; i < 60; i++) big *= 2.0;
    printf("2^60=%.0f\n", big);
    printf("float promoted: %f %g\n", (double)1.1f, (double)3.4e38f);
    return 0;
}
