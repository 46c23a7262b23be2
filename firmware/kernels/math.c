/* Scalar float32 math without libm: exp, erf, tanh, sqrt, log, log1p. The formulas are in edgexf_kernels.h
 * and mirrored bit for bit by edgexf/ir/kernels_ref.py (expf, erff, tanhf, logf, log1pf; np.sqrt for
 * exf_sqrtf). */
#include "edgexf_kernels.h"

typedef union {
    float f;
    uint32_t u;
} f32_bits; /* C11 allows reading the other member: the bytes are reinterpreted */

static inline uint32_t bits_of(float x) {
    f32_bits v;
    v.f = x;
    return v.u;
}

static inline float float_of(uint32_t u) {
    f32_bits v;
    v.u = u;
    return v.f;
}

float exf_expf(float x) {
    // x () -> exp(x) ()
    if (x != x) return x; /* NaN: the int conversion below would be undefined */
    if (x < -87.0f) x = -87.0f;
    if (x > 88.0f) x = 88.0f;
    /* n = round(x / ln2) as floor(t): t is in [-125.0, 127.5], so the conversion is defined */
    float t = x * 1.44269504f + 0.5f;
    int32_t n = (int32_t)t;
    if ((float)n > t) n -= 1;
    float fn = (float)n;
    /* Cody-Waite: fn * 0.693359375f is exact (9-bit constant), so r keeps its low bits */
    float r = (x - fn * 0.693359375f) - fn * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = (p * (r * r) + r) + 1.0f;
    /* n is in [-126, 127]: 2^n is a normal float and y * 2^n is exact and normal */
    return y * float_of((uint32_t)(n + 127) << 23);
}

float exf_erff(float x) {
    // x () -> erf(x) ()
    float a = x < 0.0f ? -x : x;
    if (a < 0.75f) {
        /* Taylor series, c_n = (-1)^n 2/sqrt(pi) / (n! (2n+1)), through x^17 (truncation < 1e-9 here):
         * near 0, A&S's 1 - q*e below cancels and loses up to 6e-7 */
        float z = x * x;
        float p = 1.64621144e-06f;
        p = p * z + -1.49256502e-05f;
        p = p * z + 0.000120553326f;
        p = p * z + -0.000854832702f;
        p = p * z + 0.00522397785f;
        p = p * z + -0.0268661715f;
        p = p * z + 0.112837918f;
        p = p * z + -0.376126379f;
        p = p * z + 1.12837923f;
        return x * p;
    }
    /* Abramowitz & Stegun 7.1.26 */
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float q = t * (0.254829592f +
                   t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
    float y = 1.0f - q * exf_expf(-(a * a));
    return x < 0.0f ? -y : y;
}

float exf_tanhf(float x) {
    // x () -> tanh(x) ()
    float a = x < 0.0f ? -x : x;
    float e = exf_expf(-2.0f * a);
    float y = (1.0f - e) / (1.0f + e);
    return x < 0.0f ? -y : y;
}

float exf_sqrtf(float x) {
    // x () -> sqrt(x) (), correctly rounded
    uint32_t ix = bits_of(x);
    if (x != x || x == 0.0f || ix == 0x7f800000u) return x; /* NaN, +-0, +inf */
    if (x < 0.0f) return float_of(0x7fc00000u);             /* NaN */
    int32_t m = (int32_t)(ix >> 23);                        /* biased exponent */
    if (m == 0) {                                           /* subnormal: normalize */
        int32_t i = 0;
        while ((ix & 0x00800000u) == 0) {
            ix <<= 1;
            i++;
        }
        m -= i - 1;
    }
    m -= 127;
    ix = (ix & 0x007fffffu) | 0x00800000u;
    if (m & 1) ix += ix;                        /* odd exponent: double the significand */
    int32_t half = (m - (m & 1)) / 2;           /* floor(m / 2), exact: m - (m & 1) is even */
    /* integer square root of the significand, one result bit per step (25 bits: 24 + a round bit) */
    ix += ix;
    uint32_t q = 0, s = 0, r = 0x01000000u;
    while (r != 0) {
        uint32_t t = s + r;
        if (t <= ix) {
            s = t + r;
            ix -= t;
            q += r;
        }
        ix += ix;
        r >>= 1;
    }
    if (ix != 0) q += (q & 1); /* round to nearest even: a nonzero remainder breaks the tie */
    return float_of((q >> 1) + 0x3f000000u + ((uint32_t)half << 23));
}

/* ---- logarithms: log(u) = k ln2 + log(1 + f), u = 2^k (1 + f), 1 + f in [sqrt(2)/2, sqrt(2)) ----------
 * With s = f / (2 + f) (|s| <= 0.1716), log(1 + f) = 2 atanh(s) = 2s + s R(z), z = s^2,
 * R(z) = sum_n 2 z^n / (2n + 1), kept through z^4 (truncation < 1e-9 relative). 2s = f - f^2 / (2 + f), so
 * log(1 + f) = f - (hfsq - s (hfsq + R)) with hfsq = f^2 / 2: the exact f leads and the rounding of s
 * only touches the small correction. ln2 is split as exf_expf splits it: k * 0.693359375f is exact. */

static inline float log_reduced(float f, float fk, float c) {
    /* k ln2 + log(1 + f) + c, for a correction c much smaller than ulp(1) */
    float s = f / (2.0f + f);
    float z = s * s;
    float r = z * (0.666666687f + z * (0.400000006f + z * (0.285714298f + z * 0.222222224f)));
    float hfsq = (0.5f * f) * f;
    return fk * 0.693359375f - ((hfsq - (s * (hfsq + r) + (fk * -2.12194440e-4f + c))) - f);
}

static inline float log_split(float u, float *fk) {
    /* u (normal, > 0) -> f with u = 2^k (1 + f), 1 + f in [sqrt(2)/2, sqrt(2)); k as a float in *fk */
    uint32_t iu = bits_of(u);
    int32_t k = (int32_t)(iu >> 23) - 127;
    float m = float_of((iu & 0x007fffffu) | 0x3f800000u); /* [1, 2) */
    if (m >= 1.41421356f) {
        m = m * 0.5f; /* exact */
        k += 1;
    }
    *fk = (float)k;
    return m - 1.0f; /* exact (Sterbenz) */
}

float exf_logf(float x) {
    // x () -> log(x) ()
    if (!(x > 0.0f) || bits_of(x) == 0x7f800000u) {
        if (x == 0.0f) return float_of(0xff800000u); /* +-0: -inf */
        if (x < 0.0f) return float_of(0x7fc00000u);  /* NaN */
        return x;                                     /* NaN, +inf */
    }
    float bias = 0.0f;
    if (x < 1.17549435e-38f) { /* subnormal: scale by 2^25 (exact) */
        x = x * 33554432.0f;
        bias = 25.0f;
    }
    float fk;
    float f = log_split(x, &fk);
    return log_reduced(f, fk - bias, 0.0f);
}

float exf_log1pf(float x) {
    // x () -> log(1 + x) ()
    if (x != x || x == 0.0f || bits_of(x) == 0x7f800000u) return x; /* NaN, +-0, +inf */
    if (x == -1.0f) return float_of(0xff800000u); /* -inf */
    if (x < -1.0f) return float_of(0x7fc00000u);  /* NaN */
    float u = 1.0f + x; /* normal: >= 2^-24 */
    /* c = (1 + x) - u exactly (Fast2Sum, the larger operand first), and log(1 + x) = log(u) + c / u */
    float c = x <= 1.0f ? x - (u - 1.0f) : 1.0f - (u - x);
    float fk;
    float f = log_split(u, &fk);
    return log_reduced(f, fk, c / u);
}
