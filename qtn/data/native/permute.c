/* Blocked, multi-threaded permute of complex arrays (8- or 16-byte elements).
 *
 * dst[i0, ..., i(n-1)] = src[sum_j i_j * in_stride[j]], dst C-contiguous of shape dims.
 * The caller has merged axes that stay neighbours (so a permute of long contiguous
 * blocks has a long last axis of input stride 1: a loop of memcpy). Otherwise the
 * kernel splits the axes into three sets:
 *   - B: the last output axes, together at least BLOCK elements (contiguous writes);
 *   - A: of the others, those with the smallest input strides, together at least
 *        BLOCK elements (contiguous reads across a tile);
 *   - the outer axes, whose iterations are shared among OpenMP threads.
 * A tile of |A| x |B| elements (a few KiB) stays in L1 while it is read and written.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 32
#define MAXDIM 64
#define MIN_RUN 8

typedef struct { uint64_t lo, hi; } c128;

/* offsets of every combination of the axes listed in ax (first varies slowest) */
static int64_t table(int k, const int *ax, const int64_t *dims, const int64_t *stride, int64_t *out) {
    int64_t count = 1;
    for (int t = 0; t < k; ++t) count *= dims[ax[t]];
    for (int64_t f = 0; f < count; ++f) {
        int64_t rem = f, off = 0;
        for (int t = k - 1; t >= 0; --t) {
            off += (rem % dims[ax[t]]) * stride[ax[t]];
            rem /= dims[ax[t]];
        }
        out[f] = off;
    }
    return count;
}

#define PERMUTE_BODY(T)                                                                          \
    const T *s = (const T *)src;                                                                 \
    T *o = (T *)dst;                                                                             \
    int64_t out_stride[MAXDIM], total = 1;                                                       \
    out_stride[n - 1] = 1;                                                                       \
    for (int d = n - 2; d >= 0; --d) out_stride[d] = out_stride[d + 1] * dims[d + 1];           \
    for (int d = 0; d < n; ++d) total *= dims[d];                                                \
    if (in_stride[n - 1] == 1 && dims[n - 1] >= MIN_RUN) {                                       \
        int64_t run = dims[n - 1], outer = total / run;                                          \
        _Pragma("omp parallel for schedule(static) num_threads(threads)")                       \
        for (int64_t f = 0; f < outer; ++f) {                                                    \
            int64_t rem = f, off = 0;                                                            \
            for (int d = n - 2; d >= 0; --d) { off += (rem % dims[d]) * in_stride[d]; rem /= dims[d]; } \
            memcpy(o + f * run, s + off, (size_t)run * sizeof(T));                               \
        }                                                                                        \
        return 0;                                                                                \
    }                                                                                            \
    int inB[MAXDIM] = {0}, bax[MAXDIM], aax[MAXDIM], oax[MAXDIM], nb = 0, na = 0, no = 0;       \
    int64_t bsize = 1, asize = 1;                                                                \
    for (int d = n - 1; d >= 0 && bsize < BLOCK; --d) { inB[d] = 1; bsize *= dims[d]; }         \
    for (int d = 0; d < n; ++d) if (inB[d]) bax[nb++] = d;                                       \
    int used[MAXDIM];                                                                            \
    for (int d = 0; d < n; ++d) used[d] = inB[d];                                                \
    while (asize < BLOCK) { /* smallest input stride not yet used */                             \
        int best = -1;                                                                           \
        for (int d = 0; d < n; ++d)                                                              \
            if (!used[d] && (best < 0 || in_stride[d] < in_stride[best])) best = d;             \
        if (best < 0) break;                                                                     \
        used[best] = 2;                                                                          \
        asize *= dims[best];                                                                     \
    }                                                                                            \
    for (int d = 0; d < n; ++d) { if (used[d] == 2) aax[na++] = d; else if (!used[d]) oax[no++] = d; } \
    int64_t *tab = (int64_t *)malloc(sizeof(int64_t) * (size_t)(2 * asize + bsize));             \
    if (!tab) return -1;                                                                         \
    int64_t *a_in = tab, *a_out = tab + asize, *b_in = tab + 2 * asize;                          \
    table(na, aax, dims, in_stride, a_in);                                                       \
    table(na, aax, dims, out_stride, a_out);                                                     \
    table(nb, bax, dims, in_stride, b_in); /* B's output offsets are 0..bsize-1 */             \
    int64_t outer = total / (asize * bsize);                                                     \
    _Pragma("omp parallel for schedule(static) num_threads(threads)")                           \
    for (int64_t f = 0; f < outer; ++f) {                                                        \
        int64_t rem = f, ib = 0, ob = 0;                                                         \
        for (int t = no - 1; t >= 0; --t) {                                                      \
            int64_t i = rem % dims[oax[t]];                                                      \
            rem /= dims[oax[t]];                                                                 \
            ib += i * in_stride[oax[t]];                                                         \
            ob += i * out_stride[oax[t]];                                                        \
        }                                                                                        \
        for (int64_t a = 0; a < asize; ++a) {                                                    \
            const T *sa = s + ib + a_in[a];                                                      \
            T *oa = o + ob + a_out[a];                                                           \
            for (int64_t b = 0; b < bsize; ++b) oa[b] = sa[b_in[b]];                             \
        }                                                                                        \
    }                                                                                            \
    free(tab);                                                                                   \
    return 0;

int qtn_permute8(const void *src, void *dst, int n, const int64_t *dims, const int64_t *in_stride, int threads) {
    PERMUTE_BODY(uint64_t)
}

int qtn_permute16(const void *src, void *dst, int n, const int64_t *dims, const int64_t *in_stride, int threads) {
    PERMUTE_BODY(c128)
}
