/* complex64 GEMMs of skinny shapes, near the machine balance: C = A @ B.
 *
 *   C[i, v, j] = sum_kk A[i, kk] * B[v, kk, j]      (complex float, interleaved re/im)
 *
 * A (m x k) is read by broadcasts at any strides; B is a batch of nviews matrices
 * (k x n2) at element offsets boff[v], rows ldb apart and columns 1 apart (or, where
 * bcol != 1, a transposed B, packed per tile into a row-major buffer); C is row-major
 * (m x nviews*n2), rows ldc apart, view v's columns at v*n2.
 *
 * Either m is small (<= 64: A sits in L1, B and C stream once) or n2 is (the mirrored
 * shape: A streams, B sits in L1). The work is cut into tiles of TILE_N columns of one
 * view by TILE_M rows, shared among OpenMP threads. Inside a tile a 4-row x 16-column
 * block of C is kept in 16 AVX-512 registers over the whole k loop: per kk two B
 * vectors are loaded and each of the four A entries is broadcast as re and as im into
 * two accumulators (acc_re += re(a) * b, acc_im += im(a) * b), so no shuffle sits in
 * the k loop; at the end C = acc_re + i * acc_im (one swap and one fmaddsub per vector).
 * Full, 64-byte aligned C vectors may be written with streaming stores (no read of the
 * line before the write), the rest with masked stores.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#define TILE_N 256 /* complex columns per tile */
#define TILE_M 256 /* rows per tile */
#define MR 4       /* rows of C in registers */
#define NR 16      /* complex columns of C in registers (two 512-bit vectors) */

/* With a long sum (k >= PACK_MIN_K) over rows of B far apart (the rows span at least
 * PACK_MIN_SPAN bytes, past L2), the micro kernel's k loop reads k distant rows at once,
 * more streams than the hardware prefetchers follow: k = 32 ran at 33-42 GFLOP/s on the
 * AMX Xeon, below np.matmul (55-68). Such B panels are first copied row by row into a
 * contiguous, L1-sized buffer of PACK_BYTES: 63-83 GFLOP/s there. Views whose rows lie
 * close (a 32 x 512 view, 128 KiB) run faster unpacked (96-103 against 73-84). */
#define PACK_MIN_K 24
#define PACK_MIN_SPAN (1024 * 1024)
#define PACK_BYTES (32 * 1024)

#define FLAG_STREAM 1 /* streaming stores for full aligned vectors of C */

#ifdef __AVX512F__
static inline __attribute__((always_inline)) void store_vec(float *c, __m512 x, __mmask16 mask, int stream) {
    if (mask == 0xFFFF && stream && ((uintptr_t)c & 63) == 0)
        _mm512_stream_ps(c, x);
    else
        _mm512_mask_storeu_ps(c, mask, x);
}

/* C[0:mr, 0:w] = A[0:mr, :] @ B[:, 0:w] with w <= NR given by the two masks;
 * a, c, b in floats; ar/ac: A's row and column strides in complex elements. */
static inline __attribute__((always_inline)) void micro(int mr, const float *a, int64_t ar, int64_t ac, int64_t k,
                                                        const float *b, int64_t ldb, float *c, int64_t ldc,
                                                        __mmask16 m0, __mmask16 m1, int stream, int64_t pf) {
    __m512 re[MR][2], im[MR][2];
    for (int r = 0; r < mr; ++r)
        for (int v = 0; v < 2; ++v) re[r][v] = im[r][v] = _mm512_setzero_ps();
    for (int64_t kk = 0; kk < k; ++kk) {
        const float *brow = b + 2 * kk * ldb;
        if (pf) {
            _mm_prefetch((const char *)(brow + 2 * pf), _MM_HINT_T0);
            _mm_prefetch((const char *)(brow + 2 * pf + 16), _MM_HINT_T0);
        }
        __m512 b0 = _mm512_maskz_loadu_ps(m0, brow);
        __m512 b1 = _mm512_maskz_loadu_ps(m1, brow + 16);
        for (int r = 0; r < mr; ++r) {
            const float *ap = a + 2 * (r * ar + kk * ac);
            __m512 x = _mm512_set1_ps(ap[0]), y = _mm512_set1_ps(ap[1]);
            re[r][0] = _mm512_fmadd_ps(x, b0, re[r][0]);
            re[r][1] = _mm512_fmadd_ps(x, b1, re[r][1]);
            im[r][0] = _mm512_fmadd_ps(y, b0, im[r][0]);
            im[r][1] = _mm512_fmadd_ps(y, b1, im[r][1]);
        }
    }
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int r = 0; r < mr; ++r) {
        /* (x + i y)(u + i w): re holds (x u, x w), im holds (y u, y w); swapped im is (y w, y u) */
        __m512 c0 = _mm512_fmaddsub_ps(one, re[r][0], _mm512_permute_ps(im[r][0], 0xB1));
        __m512 c1 = _mm512_fmaddsub_ps(one, re[r][1], _mm512_permute_ps(im[r][1], 0xB1));
        store_vec(c + 2 * r * ldc, c0, m0, stream);
        store_vec(c + 2 * r * ldc + 16, c1, m1, stream);
    }
}

static inline __mmask16 lane_mask(int64_t floats) {
    return floats >= 16 ? (__mmask16)0xFFFF : floats <= 0 ? (__mmask16)0 : (__mmask16)((1u << floats) - 1u);
}

/* dst[0:count] = src[0:count] (floats, src 64-byte aligned scratch): streaming stores
 * where dst is aligned, masked stores at the two ends */
static void stream_copy(float *dst, const float *src, int64_t count) {
    int64_t head = (int64_t)((64 - ((uintptr_t)dst & 63)) & 63) / 4;
    if (head > count) head = count;
    if (head) _mm512_mask_storeu_ps(dst, lane_mask(head), _mm512_maskz_loadu_ps(lane_mask(head), src));
    int64_t i = head;
    for (; i + 16 <= count; i += 16) _mm512_stream_ps(dst + i, _mm512_loadu_ps(src + i));
    if (i < count) _mm512_mask_storeu_ps(dst + i, lane_mask(count - i), _mm512_maskz_loadu_ps(lane_mask(count - i), src + i));
}

/* one tile: rows [0, rows) of A and C, columns [0, w) of the row-major B panel */
static void tile(const float *a, int64_t ar, int64_t ac, int64_t rows, int64_t k, const float *b, int64_t ldb,
                 int64_t w, float *c, int64_t ldc, int stream, int64_t pf) {
    /* the first block ends where C's rows reach a 64-byte boundary, so the others can stream */
    int64_t lead = (int64_t)((64 - ((uintptr_t)c & 63)) & 63) / 8;
    int64_t j = 0;
    while (j < w) {
        int64_t width = (j == 0 && lead) ? lead : NR;
        if (width > w - j) width = w - j;
        __mmask16 m0 = lane_mask(2 * width), m1 = lane_mask(2 * width - 16);
        int64_t i = 0;
        for (; i + MR <= rows; i += MR)
            micro(MR, a + 2 * i * ar, ar, ac, k, b + 2 * j, ldb, c + 2 * (i * ldc + j), ldc, m0, m1, stream,
                  i == 0 ? pf : 0);
        switch (rows - i) {
        case 3: micro(3, a + 2 * i * ar, ar, ac, k, b + 2 * j, ldb, c + 2 * (i * ldc + j), ldc, m0, m1, stream, 0); break;
        case 2: micro(2, a + 2 * i * ar, ar, ac, k, b + 2 * j, ldb, c + 2 * (i * ldc + j), ldc, m0, m1, stream, 0); break;
        case 1: micro(1, a + 2 * i * ar, ar, ac, k, b + 2 * j, ldb, c + 2 * (i * ldc + j), ldc, m0, m1, stream, 0); break;
        default: break;
        }
        j += width;
    }
}
#define HAVE_STREAM_COPY 1

/* pack[kk, j] = B[j, kk] for a transposed B whose rows are contiguous (ldb == 1), in
 * complex (64-bit) elements: 4 x 4 blocks transposed in registers, the edges one by one
 * (the 4 x 4 x 2^23 step of Sycamore: 59-69 ms element by element, 48-50 ms so, 37-45 ms
 * with B not transposed; AMX Xeon, bench/skinny_gemm.py) */
static void pack_transposed(float *pack, const float *b, int64_t bcol, int64_t k, int64_t w) {
    int64_t j = 0;
    for (; j + 4 <= w; j += 4) {
        int64_t kk = 0;
        for (; kk + 4 <= k; kk += 4) {
            __m256d r0 = _mm256_loadu_pd((const double *)(b + 2 * ((j + 0) * bcol + kk)));
            __m256d r1 = _mm256_loadu_pd((const double *)(b + 2 * ((j + 1) * bcol + kk)));
            __m256d r2 = _mm256_loadu_pd((const double *)(b + 2 * ((j + 2) * bcol + kk)));
            __m256d r3 = _mm256_loadu_pd((const double *)(b + 2 * ((j + 3) * bcol + kk)));
            __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
            __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
            _mm256_storeu_pd((double *)(pack + 2 * ((kk + 0) * w + j)), _mm256_permute2f128_pd(t0, t2, 0x20));
            _mm256_storeu_pd((double *)(pack + 2 * ((kk + 1) * w + j)), _mm256_permute2f128_pd(t1, t3, 0x20));
            _mm256_storeu_pd((double *)(pack + 2 * ((kk + 2) * w + j)), _mm256_permute2f128_pd(t0, t2, 0x31));
            _mm256_storeu_pd((double *)(pack + 2 * ((kk + 3) * w + j)), _mm256_permute2f128_pd(t1, t3, 0x31));
        }
        for (; kk < k; ++kk)
            for (int64_t r = 0; r < 4; ++r) memcpy(pack + 2 * (kk * w + j + r), b + 2 * ((j + r) * bcol + kk), 8);
    }
    for (; j < w; ++j)
        for (int64_t kk = 0; kk < k; ++kk) memcpy(pack + 2 * (kk * w + j), b + 2 * (j * bcol + kk), 8);
}
#else
/* portable fallback: the same tiles, plain loops (the compiler vectorizes over j) */
static void tile(const float *a, int64_t ar, int64_t ac, int64_t rows, int64_t k, const float *b, int64_t ldb,
                 int64_t w, float *c, int64_t ldc, int stream, int64_t pf) {
    (void)stream;
    (void)pf;
    for (int64_t i = 0; i < rows; ++i) {
        float *ci = c + 2 * i * ldc;
        for (int64_t j = 0; j < 2 * w; ++j) ci[j] = 0.0f;
        for (int64_t kk = 0; kk < k; ++kk) {
            const float *ap = a + 2 * (i * ar + kk * ac);
            float x = ap[0], y = ap[1];
            const float *bk = b + 2 * kk * ldb;
            for (int64_t j = 0; j < w; ++j) {
                float u = bk[2 * j], v = bk[2 * j + 1];
                ci[2 * j] += x * u - y * v;
                ci[2 * j + 1] += x * v + y * u;
            }
        }
    }
}
#endif

/* Returns 0, or -1 when a packing buffer could not be allocated. */
int qtn_cgemm(const float *A, int64_t ar, int64_t ac, int64_t m, int64_t k, const float *B, const int64_t *boff,
              int64_t nviews, int64_t ldb, int64_t bcol, int64_t n2, float *C, int64_t ldc, int threads, int flags,
              int64_t pf) {
    if (m <= 0 || n2 <= 0 || nviews <= 0) return 0;
    int64_t tn = TILE_N, tm = TILE_M;
    int packrows = bcol == 1 && k >= PACK_MIN_K && (k - 1) * ldb * (int64_t)(2 * sizeof(float)) >= PACK_MIN_SPAN;
    if (packrows) { /* a panel of k rows x tn columns fills the packing buffer */
        tn = PACK_BYTES / (int64_t)(2 * sizeof(float) * k) / NR * NR;
        if (tn < NR) tn = NR;
        if (tn > TILE_N) tn = TILE_N;
    }
    if (n2 < tn) tn = n2;
    if (m < tm) tm = m;
    int64_t ncols = (n2 + tn - 1) / tn, nrows = (m + tm - 1) / tm;
    int64_t total = nviews * ncols * nrows;
    int stream = flags & FLAG_STREAM;
    int failed = 0;
    if (k <= 0) { /* an empty sum */
        for (int64_t i = 0; i < m; ++i) memset(C + 2 * i * ldc, 0, sizeof(float) * 2 * (size_t)(nviews * n2));
        return 0;
    }
#pragma omp parallel num_threads(threads)
    {
        float *pack = NULL, *stage = NULL;
#ifdef HAVE_STREAM_COPY
        /* tiles of whole rows (the mirrored shape) are one contiguous run of C whose rows
         * do not start on 64-byte lines: computed into scratch, then streamed out */
        if (stream && tn == ldc && nviews == 1) {
            stage = (float *)aligned_alloc(64, (sizeof(float) * 2 * (size_t)(tm * tn) + 63) / 64 * 64);
            if (!stage) {
#pragma omp atomic write
                failed = 1;
            }
        }
#endif
        if (bcol != 1 || packrows) {
            pack = (float *)aligned_alloc(64, (sizeof(float) * 2 * (size_t)(k * tn) + 63) / 64 * 64);
            if (!pack) {
#pragma omp atomic write
                failed = 1;
            }
        }
#pragma omp for schedule(dynamic, 8)
        for (int64_t t = 0; t < total; ++t) {
            if ((bcol != 1 || packrows) && !pack) continue;
            if (stream && tn == ldc && nviews == 1 && !stage) continue;
            int64_t rb = t % nrows, rest = t / nrows;
            int64_t cb = rest % ncols, v = rest / ncols;
            int64_t i0 = rb * tm, j0 = cb * tn;
            int64_t rows = m - i0 < tm ? m - i0 : tm, w = n2 - j0 < tn ? n2 - j0 : tn;
            const float *bp = B + 2 * (boff[v] + j0 * bcol);
            int64_t ld = ldb;
            if (bcol != 1) { /* B transposed here: copy its panel into rows of w */
#ifdef __AVX512F__
                if (ldb == 1) pack_transposed(pack, bp, bcol, k, w);
                else
#endif
                for (int64_t j = 0; j < w; ++j)
                    for (int64_t kk = 0; kk < k; ++kk) {
                        pack[2 * (kk * w + j)] = bp[2 * (j * bcol + kk * ldb)];
                        pack[2 * (kk * w + j) + 1] = bp[2 * (j * bcol + kk * ldb) + 1];
                    }
                bp = pack;
                ld = w;
            } else if (packrows) { /* rows of B ldb apart: copied to w-wide rows, one stream */
                for (int64_t kk = 0; kk < k; ++kk)
                    memcpy(pack + 2 * kk * w, bp + 2 * kk * ldb, sizeof(float) * 2 * (size_t)w);
                bp = pack;
                ld = w;
            }
            float *cp = C + 2 * (i0 * ldc + v * n2 + j0);
            if (stage) {
#ifdef HAVE_STREAM_COPY
                tile(A + 2 * i0 * ar, ar, ac, rows, k, bp, ld, w, stage, w, 0, 0);
                stream_copy(cp, stage, 2 * rows * w);
#endif
            } else {
                tile(A + 2 * i0 * ar, ar, ac, rows, k, bp, ld, w, cp, ldc, stream,
                     bcol == 1 && !packrows && j0 + tn < n2 ? pf : 0);
            }
        }
        free(pack);
        free(stage);
#ifdef __AVX512F__
        if (stream) _mm_sfence(); /* this thread's streaming stores visible before C is read */
#endif
    }
    return failed ? -1 : 0;
}

/* whether this build has the AVX-512 kernel (1) or the portable loops (0) */
int qtn_cgemm_vectorized(void) {
#ifdef __AVX512F__
    return 1;
#else
    return 0;
#endif
}
