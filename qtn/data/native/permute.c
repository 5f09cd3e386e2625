/* Multi-threaded permute of complex arrays, driven by a plan computed in Python (qtn/permute.py).
 *
 * The plan (int64 words, byte offsets throughout) is a loop nest over "outer" axes, in the
 * output's order, and one of three inner kernels run at every point of the nest:
 *   PATH_LINES  a whole contiguous run (>= 64 bytes) of input is a contiguous run of output:
 *               memcpy (or streaming stores);
 *   PATH_TILE   a block of TA input-contiguous units (A) x TB output-contiguous units (B),
 *               units of E = 8, 16 or 32 bytes, cut in T x T register tiles (T * E = 64):
 *               T rows of one cache line are loaded, transposed in registers (8x8 qwords,
 *               4x4 128-bit lanes, 2x2 256-bit halves) and stored as T rows of one cache
 *               line; a_out / b_in give the rows' offsets, so A and B may each be several
 *               (short) axes. Blocks longer than T on each side read and write runs of
 *               several cache lines (what the hardware prefetchers and the TLB need);
 *   PATH_GATHER the general case: every output line of W qwords is gathered through a
 *               table of byte offsets.
 * Every tile and line reads and writes whole cache lines, so no deeper blocking is needed.
 * Streaming (non-temporal) stores only for outputs >= STREAM_BYTES from a 64-byte aligned
 * start: smaller outputs are read again soon from cache, and unaligned ones can't stream.
 * Without AVX-512 (#ifndef __AVX512F__) the same plan runs on scalar code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

enum { PATH_LINES = 0, PATH_TILE = 1, PATH_GATHER = 2 };
enum { P_PATH, P_UNIT, P_NLOOP, P_W, P_ALIGNED, P_TOTAL, P_TB, P_HEADER = 8 };
#define MAXLOOP 64
#define STREAM_BYTES (64LL << 20)

typedef struct {
    int n;
    const int64_t *dims, *ist, *ost;
    int64_t idx[MAXLOOP];
    int64_t ib, ob;
} odometer;

static void odo_seek(odometer *o, int64_t f) {
    o->ib = o->ob = 0;
    for (int d = o->n - 1; d >= 0; --d) {
        int64_t i = f % o->dims[d];
        f /= o->dims[d];
        o->idx[d] = i;
        o->ib += i * o->ist[d];
        o->ob += i * o->ost[d];
    }
}

static inline void odo_next(odometer *o) {
    for (int d = o->n - 1; d >= 0; --d) {
        o->ib += o->ist[d];
        o->ob += o->ost[d];
        if (++o->idx[d] < o->dims[d]) return;
        o->idx[d] = 0;
        o->ib -= o->dims[d] * o->ist[d];
        o->ob -= o->dims[d] * o->ost[d];
    }
}

#ifdef __AVX512F__
static inline __attribute__((always_inline)) void put(char *p, __m512i v, int stream) {
    if (stream) _mm512_stream_si512((void *)p, v);
    else _mm512_storeu_si512((void *)p, v);
}

/* rows r0..r3 of four 128-bit lanes each -> their transpose (lane k of every row) */
#define LANE4X4(r0, r1, r2, r3, o0, o1, o2, o3) do {                      \
        __m512i t0_ = _mm512_shuffle_i64x2(r0, r1, 0x44);                 \
        __m512i t1_ = _mm512_shuffle_i64x2(r0, r1, 0xEE);                 \
        __m512i t2_ = _mm512_shuffle_i64x2(r2, r3, 0x44);                 \
        __m512i t3_ = _mm512_shuffle_i64x2(r2, r3, 0xEE);                 \
        o0 = _mm512_shuffle_i64x2(t0_, t2_, 0x88);                        \
        o1 = _mm512_shuffle_i64x2(t0_, t2_, 0xDD);                        \
        o2 = _mm512_shuffle_i64x2(t1_, t3_, 0x88);                        \
        o3 = _mm512_shuffle_i64x2(t1_, t3_, 0xDD);                        \
    } while (0)

static inline __attribute__((always_inline)) void
tile(int unit, const char *s, char *d, const int64_t *a_out, const int64_t *b_in, int stream) {
#define LD(k) _mm512_loadu_si512((const void *)(s + b_in[k]))
    if (unit == 8) { /* 8x8 qwords: unpack pairs, then two 4x4 lane transposes */
        __m512i r0 = LD(0), r1 = LD(1), r2 = LD(2), r3 = LD(3), r4 = LD(4), r5 = LD(5), r6 = LD(6), r7 = LD(7);
        __m512i t0 = _mm512_unpacklo_epi64(r0, r1), t1 = _mm512_unpackhi_epi64(r0, r1);
        __m512i t2 = _mm512_unpacklo_epi64(r2, r3), t3 = _mm512_unpackhi_epi64(r2, r3);
        __m512i t4 = _mm512_unpacklo_epi64(r4, r5), t5 = _mm512_unpackhi_epi64(r4, r5);
        __m512i t6 = _mm512_unpacklo_epi64(r6, r7), t7 = _mm512_unpackhi_epi64(r6, r7);
        __m512i o0, o1, o2, o3, o4, o5, o6, o7;
        LANE4X4(t0, t2, t4, t6, o0, o2, o4, o6);
        LANE4X4(t1, t3, t5, t7, o1, o3, o5, o7);
        put(d + a_out[0], o0, stream); put(d + a_out[1], o1, stream);
        put(d + a_out[2], o2, stream); put(d + a_out[3], o3, stream);
        put(d + a_out[4], o4, stream); put(d + a_out[5], o5, stream);
        put(d + a_out[6], o6, stream); put(d + a_out[7], o7, stream);
    } else if (unit == 16) { /* 4x4 of 128-bit lanes (complex128, or pairs of complex64) */
        __m512i r0 = LD(0), r1 = LD(1), r2 = LD(2), r3 = LD(3), o0, o1, o2, o3;
        LANE4X4(r0, r1, r2, r3, o0, o1, o2, o3);
        put(d + a_out[0], o0, stream); put(d + a_out[1], o1, stream);
        put(d + a_out[2], o2, stream); put(d + a_out[3], o3, stream);
    } else { /* 2x2 of 256-bit halves */
        __m512i r0 = LD(0), r1 = LD(1);
        put(d + a_out[0], _mm512_shuffle_i64x2(r0, r1, 0x44), stream);
        put(d + a_out[1], _mm512_shuffle_i64x2(r0, r1, 0xEE), stream);
    }
#undef LD
}

static inline __attribute__((always_inline)) void
line_copy(const char *s, char *d, int64_t len, int stream) {
    if (!stream) { memcpy(d, s, (size_t)len); return; }
    for (int64_t k = 0; k < len; k += 64) _mm512_stream_si512((void *)(d + k), _mm512_loadu_si512((const void *)(s + k)));
}

static inline __attribute__((always_inline)) void
gather_line(const char *s, uint64_t *d, int64_t wq, const int64_t *off, int stream) {
    int64_t j = 0;
    for (; j + 8 <= wq; j += 8)
        put((char *)(d + j), _mm512_i64gather_epi64(_mm512_loadu_si512((const void *)(off + j)), (const void *)s, 1), stream);
    if (j < wq) {
        __mmask8 m = (__mmask8)((1u << (wq - j)) - 1);
        __m512i idx = _mm512_maskz_loadu_epi64(m, off + j);
        _mm512_mask_storeu_epi64(d + j, m, _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), m, idx, (const void *)s, 1));
    }
}
#else /* scalar fallback: the same plan, unit by unit */
static inline void tile(int unit, const char *s, char *d, const int64_t *a_out, const int64_t *b_in, int stream) {
    (void)stream;
    int t = 64 / unit;
    for (int a = 0; a < t; ++a)
        for (int b = 0; b < t; ++b) memcpy(d + a_out[a] + b * unit, s + b_in[b] + a * unit, (size_t)unit);
}

static inline void line_copy(const char *s, char *d, int64_t len, int stream) {
    (void)stream;
    memcpy(d, s, (size_t)len);
}

static inline void gather_line(const char *s, uint64_t *d, int64_t wq, const int64_t *off, int stream) {
    (void)stream;
    for (int64_t j = 0; j < wq; ++j) memcpy(d + j, s + off[j], 8);
}
#endif

/* one chunk [f0, f1) of the loop nest's iterations */
static inline __attribute__((always_inline)) void
run_chunk(const int64_t *plan, const char *src, char *dst, int64_t f0, int64_t f1, int stream) {
    int n = (int)plan[P_NLOOP];
    int64_t unit = plan[P_UNIT], w = plan[P_W];
    const int64_t *dims = plan + P_HEADER, *table = dims + 3 * n;
    odometer o = {n, dims, dims + n, dims + 2 * n, {0}, 0, 0};
    odo_seek(&o, f0);
    switch (plan[P_PATH]) {
    case PATH_LINES:
        for (int64_t f = f0; f < f1; ++f, odo_next(&o)) line_copy(src + o.ib, dst + o.ob, unit, stream);
        break;
    case PATH_TILE: {
        int64_t tb = plan[P_TB], t = 64 / unit;
        for (int64_t f = f0; f < f1; ++f, odo_next(&o))
            for (int64_t b0 = 0; b0 < tb; b0 += t) /* a row of input at a time: sequential reads */
                for (int64_t a0 = 0; a0 < w; a0 += t)
                    tile((int)unit, src + o.ib + a0 * unit, dst + o.ob + b0 * unit, table + a0, table + w + b0, stream);
        break;
    }
    default:
        for (int64_t f = f0; f < f1; ++f, odo_next(&o)) gather_line(src + o.ib, (uint64_t *)(dst + o.ob), w, table, stream);
    }
#ifdef __AVX512F__
    if (stream) _mm_sfence(); /* this thread's streaming stores, before the team's barrier */
#endif
}

/* dst = the permute of src described by plan; threads > 1 share chunks of the loop nest */
int qtn_permute(const void *src, void *dst, const int64_t *plan, int threads) {
    int n = (int)plan[P_NLOOP];
    if (n > MAXLOOP) return -1;
    int64_t total = 1;
    for (int d = 0; d < n; ++d) total *= plan[P_HEADER + d];
    int stream = plan[P_ALIGNED] && plan[P_TOTAL] >= STREAM_BYTES && ((uintptr_t)dst & 63) == 0;
    if (threads < 1) threads = 1;
    /* dynamic chunks: a core slowed by another job hands its share to the others */
    int64_t chunks = threads > 1 ? (total < 16LL * threads ? total : 16LL * threads) : 1;
    const char *s = (const char *)src;
    char *o = (char *)dst;
    /* two copies of the loop: with the flag a constant, each inlined chunk drops the other store kind */
    if (stream) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
        for (int64_t c = 0; c < chunks; ++c) run_chunk(plan, s, o, total * c / chunks, total * (c + 1) / chunks, 1);
    } else {
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
        for (int64_t c = 0; c < chunks; ++c) run_chunk(plan, s, o, total * c / chunks, total * (c + 1) / chunks, 0);
    }
    return 0;
}
