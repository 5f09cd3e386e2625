#ifndef SVGATE_TYPE
/* In-place gate kernels on a state vector of 2^n complex amplitudes (float or double).
 *
 * Bit b of an amplitude's index is the value of the qubit held there (the caller maps
 * qubits to bits). Two kernels:
 *
 *   qtn_dense_{f,d}: a dense 2^k x 2^k matrix (k <= MAXK) on target bits tbits[0..k-1]
 *       (tbits[0] the most significant bit of the matrix index), applied only to the
 *       amplitudes whose control bits (cmask) equal cval. The kernel takes LANES
 *       "bases" (indices with every target bit 0) at once, gathers their 2^k amplitudes
 *       into split real/imaginary tiles and multiplies the matrix in with loops over
 *       the lanes, which the compiler vectorizes (-O3 -march=native) whichever bits the
 *       targets are: no copy of the state, no transposition.
 *   qtn_diag_{f,d}: multiply every amplitude by table[pext(index, mask)] (a diagonal
 *       over the bits of mask; table bit j is the j-th lowest bit of mask).
 *
 * Both split their work among OpenMP threads (num_threads argument; 1 = serial).
 */
#include <stdint.h>
#include <string.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif
#if defined(__BMI2__)
#include <immintrin.h>
#endif

#define MAXK 6
#define CAT(a, b) a##b
#define FN(name, suffix) CAT(name, suffix)

static inline uint64_t deposit(uint64_t v, uint64_t mask) {
#if defined(__BMI2__)
    return _pdep_u64(v, mask);
#else
    uint64_t out = 0;
    for (uint64_t bit = 1; mask; bit <<= 1) {
        uint64_t low = mask & -mask;
        if (v & bit) out |= low;
        mask &= mask - 1;
    }
    return out;
#endif
}

/* flush-to-zero and denormals-are-zero while a kernel runs: amplitudes that cancel to
   ~1e-39 made float passes 4-15x slower (measured on HHL-12, 2^12 amplitudes) */
static inline unsigned flush_denormals(void) {
#if defined(__SSE__)
    const unsigned csr = _mm_getcsr();
    _mm_setcsr(csr | 0x8040);
    return csr;
#else
    return 0;
#endif
}

static inline void restore_csr(unsigned csr) {
#if defined(__SSE__)
    _mm_setcsr(csr);
#else
    (void)csr;
#endif
}

static inline uint64_t extract(uint64_t v, uint64_t mask) {
#if defined(__BMI2__)
    return _pext_u64(v, mask);
#else
    uint64_t out = 0;
    for (uint64_t bit = 1; mask; bit <<= 1) {
        uint64_t low = mask & -mask;
        if (v & low) out |= bit;
        mask &= mask - 1;
    }
    return out;
#endif
}

#define SVGATE_TYPE
#define T float
#define LANES 16
#define LINE_BITS 3
#define SUFFIX f
#include __FILE__
#undef T
#undef LANES
#undef LINE_BITS
#undef SUFFIX
#define T double
#define LANES 8
#define LINE_BITS 2
#define SUFFIX d
#include __FILE__
#else

/* the kernels of one element type: T (float or double), LANES bases per tile, SUFFIX */
int FN(qtn_dense_, SUFFIX)(T *st, int n, int k, const int *tbits, const T *mat, uint64_t cmask, uint64_t cval,
                           int threads) {
    if (k < 1 || k > MAXK || n < k || n > 62) return -1;
    const int K = 1 << k;
    const uint64_t all = ((uint64_t)1 << n) - 1;
    uint64_t tmask = 0;
    int64_t off[1 << MAXK];
    for (int j = 0; j < k; ++j) tmask |= (uint64_t)1 << tbits[j];
    if ((tmask & cmask) || ((tmask | cmask) & ~all) || (cval & ~cmask)) return -2;
    for (int m = 0; m < K; ++m) {
        int64_t o = 0;
        for (int j = 0; j < k; ++j)
            if ((m >> (k - 1 - j)) & 1) o |= (int64_t)1 << tbits[j];
        off[m] = o;
    }
    T mr[1 << (2 * MAXK)], mi[1 << (2 * MAXK)];
    for (int e = 0; e < K * K; ++e) { mr[e] = mat[2 * e]; mi[e] = mat[2 * e + 1]; }
    const uint64_t fmask = all & ~(tmask | cmask);
    const int64_t bases = (int64_t)1 << __builtin_popcountll(fmask);
    const int64_t chunks = (bases + LANES - 1) / LANES;
    /* the lowest log2(LANES) bits free: a tile's bases are consecutive indices */
    const int consecutive = (fmask & (LANES - 1)) == (LANES - 1);
    #pragma omp parallel num_threads(threads) if(threads > 1)
    {
    const unsigned csr = flush_denormals();  /* per thread: subnormals cost ~100x */
    #pragma omp for schedule(static)
    for (int64_t c = 0; c < chunks; ++c) {
        T xr[1 << MAXK][LANES], xi[1 << MAXK][LANES];
        int64_t base[LANES];
        const int lanes = (int)((bases - c * LANES) < LANES ? (bases - c * LANES) : LANES);
        if (consecutive) {
            const int64_t b0 = (int64_t)(deposit((uint64_t)(c * LANES), fmask) | cval);
            for (int j = 0; j < K; ++j) {
                const T *p = st + 2 * (b0 + off[j]);
                #pragma omp simd
                for (int b = 0; b < LANES; ++b) { xr[j][b] = p[2 * b]; xi[j][b] = p[2 * b + 1]; }
            }
            for (int m = 0; m < K; ++m) {
                T yr[LANES], yi[LANES];
                #pragma omp simd
                for (int b = 0; b < LANES; ++b) { yr[b] = 0; yi[b] = 0; }
                for (int j = 0; j < K; ++j) {
                    const T ar = mr[m * K + j], ai = mi[m * K + j];
                    #pragma omp simd
                    for (int b = 0; b < LANES; ++b) {
                        yr[b] += ar * xr[j][b] - ai * xi[j][b];
                        yi[b] += ar * xi[j][b] + ai * xr[j][b];
                    }
                }
                T *p = st + 2 * (b0 + off[m]);
                #pragma omp simd
                for (int b = 0; b < LANES; ++b) { p[2 * b] = yr[b]; p[2 * b + 1] = yi[b]; }
            }
            continue;
        }
        for (int b = 0; b < LANES; ++b)
            base[b] = b < lanes ? (int64_t)(deposit((uint64_t)(c * LANES + b), fmask) | cval) : base[0];
        for (int j = 0; j < K; ++j)
            for (int b = 0; b < LANES; ++b) {
                xr[j][b] = st[2 * (base[b] + off[j])];
                xi[j][b] = st[2 * (base[b] + off[j]) + 1];
            }
        for (int m = 0; m < K; ++m) {
            T yr[LANES], yi[LANES];
            #pragma omp simd
            for (int b = 0; b < LANES; ++b) { yr[b] = 0; yi[b] = 0; }
            for (int j = 0; j < K; ++j) {
                const T ar = mr[m * K + j], ai = mi[m * K + j];
                #pragma omp simd
                for (int b = 0; b < LANES; ++b) {
                    yr[b] += ar * xr[j][b] - ai * xi[j][b];
                    yi[b] += ar * xi[j][b] + ai * xr[j][b];
                }
            }
            for (int b = 0; b < lanes; ++b) {  /* lanes past the end repeat lane 0: not written */
                st[2 * (base[b] + off[m])] = yr[b];
                st[2 * (base[b] + off[m]) + 1] = yi[b];
            }
        }
    }
    restore_csr(csr);
    }
    return 0;
}

int FN(qtn_diag_, SUFFIX)(T *st, int n, uint64_t mask, const T *table, int threads) {
    if (n < 0 || n > 62) return -1;
    const uint64_t all = ((uint64_t)1 << n) - 1;
    if (mask & ~all) return -2;
    /* a run: the lowest bits all in mask (table entries consecutive) or all outside it
       (one table entry); at most 2^16 amplitudes so that threads share the work */
    int low = 0;
    const int inside = (int)(mask & 1);
    while (low < n && low < 16 && (int)((mask >> low) & 1) == inside) ++low;
    const int64_t run = (int64_t)1 << low, runs = ((int64_t)1 << n) / run;
    #pragma omp parallel num_threads(threads) if(threads > 1)
    {
    const unsigned csr = flush_denormals();  /* per thread: subnormals cost ~100x */
    #pragma omp for schedule(static)
    for (int64_t r = 0; r < runs; ++r) {
        const int64_t s = r * run;
        const int64_t t = (int64_t)extract((uint64_t)s, mask);
        T *p = st + 2 * s;
        if (inside) {
            const T *q = table + 2 * t;
            for (int64_t i = 0; i < run; ++i) {
                const T a = p[2 * i], b = p[2 * i + 1], c = q[2 * i], d = q[2 * i + 1];
                p[2 * i] = a * c - b * d;
                p[2 * i + 1] = a * d + b * c;
            }
        } else {
            const T c = table[2 * t], d = table[2 * t + 1];
            for (int64_t i = 0; i < run; ++i) {
                const T a = p[2 * i], b = p[2 * i + 1];
                p[2 * i] = a * c - b * d;
                p[2 * i + 1] = a * d + b * c;
            }
        }
    }
    restore_csr(csr);
    }
    return 0;
}
#endif
