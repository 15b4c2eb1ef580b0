/* libm: the math library (-lm): sqrt sin cos exp log pow floor fmod and friends. */
#include <stdio.h>
#include <math.h>
int main(void) {
    volatile double x = 2.0;  /* volatile: keep the calls from folding at compile time */
    printf("sqrt(2)=%.12f\n", sqrt(x));
    printf("sin(1)=%.12f cos(1)=%.12f tan(0.5)=%.12f\n", sin(x / 2), cos(x / 2), tan(x / 4));
    printf("exp(2)=%.12f log(2)=%.12f log10(2)=%.12f\n", exp(x), log(x), log10(x));
    printf("pow(2,0.5)=%.12f pow(2,10)=%.1f pow(-2,3)=%.1f\n", pow(x, 0.5), pow(x, 10), pow(-x, 3));
    printf("floor(-2.5)=%.1f ceil(-2.5)=%.1f round(2.5)=%.1f trunc(-2.7)=%.1f\n",
           floor(-x - 0.5), ceil(-x - 0.5), round(x + 0.5), trunc(-x - 0.7));
    printf("fmod(10,3)=%.1f fmod(-7.5,2)=%.2f fabs(-3)=%.1f\n", fmod(x * 5, 3), fmod(-7.5, x), fabs(-x - 1));
    printf("atan2(1,1)=%.12f hypot(3,4)=%.1f cbrt(27)=%.6f\n", atan2(x / 2, x / 2), hypot(x + 1, x + 2), cbrt(27 * x / 2));
    double s = 0;
    for (int i = 1; i <= 1000; i++) s += sin(i * 0.001) * cos(i * 0.002) + sqrt((double)i);
    printf("sum=%.9f\n", s);
    printf("isnan(sqrt(-1))=%d isinf(1/0)=%d\n", isnan(sqrt(-x)) != 0, isinf(x / 0.0) != 0);
    double l = log(0.5 * x - 1.0);
    printf("log(0)=%f\n", l);
    return 0;
}
