/*
 * Float increments in the platform's long double, for INCRBYFLOAT (and HINCRBYFLOAT).
 *
 * Clients see the exact digits the reference server prints: it parses both operands with strtold, adds
 * them in long double, and prints the sum with "%.17Lf" before trimming trailing zeros. Reproducing that
 * byte for byte needs the same extended-precision arithmetic and the C library's correctly rounded
 * conversions, so this one function is C. Pure computation: no I/O, no global state.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEEL_LD_MAX_CHARS (5 * 1024)

/* Parses a float operand: strtold's grammar, no leading space, nothing left over, no NaN, no overflow. */
static int parse_ld(const unsigned char *s, size_t len, long double *out) {
    char buf[KEEL_LD_MAX_CHARS];
    char *end;
    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    long double v = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || end[0] != '\0' ||
        (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO)) || isnan(v))
        return 0;
    *out = v;
    return 1;
}

/*
 * Adds two operands. The current value is either text (cur, cur_len) or, when cur is NULL, the integer
 * cur_int. Writes the human-friendly sum into out (capacity out_cap) and its length into out_len.
 * Returns 0 on success, 1 if an operand is not a valid float, 2 if the sum is NaN or infinite,
 * 3 if out is too small.
 */
int keel_ld_incr(const unsigned char *cur, size_t cur_len, long long cur_int, const unsigned char *incr,
                 size_t incr_len, char *out, size_t out_cap, size_t *out_len) {
    long double value, delta;
    if (cur != NULL) {
        if (!parse_ld(cur, cur_len, &value)) return 1;
    } else {
        value = (long double)cur_int;
    }
    if (!parse_ld(incr, incr_len, &delta)) return 1;
    value += delta;
    if (isnan(value) || isinf(value)) return 2;
    int l = snprintf(out, out_cap, "%.17Lf", value);
    if (l < 0 || (size_t)l + 1 > out_cap) return 3;
    if (strchr(out, '.') != NULL) {
        char *p = out + l - 1;
        while (*p == '0') {
            p--;
            l--;
        }
        if (*p == '.') l--;
    }
    if (l == 2 && out[0] == '-' && out[1] == '0') {
        out[0] = '0';
        l = 1;
    }
    *out_len = (size_t)l;
    return 0;
}
