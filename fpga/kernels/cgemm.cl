/* Complex GEMM and N-d permutation kernels for qtn's OpenCL backend.
 *
 * Complex numbers are interleaved (REAL2 = float2 / double2), exactly numpy's
 * complex64 / complex128 memory layout, so host arrays upload without conversion.
 *
 * Build-time macros (passed with -D):
 *   REAL            float or double (double needs cl_khr_fp64)
 *   TILE_M, TILE_N  rows / columns of C computed by one work-group
 *   TILE_K          depth of the A and B tiles staged in local memory per step
 *   WPT_M, WPT_N    outputs per work-item and pass along m and n (register blocking)
 *   WG_M, WG_N      work-group shape (default TILE_M / WPT_M and
 *                   TILE_N / (WPT_N * ACC_INTERLEAVE): one pass covers the tile);
 *                   TILE_M % (WG_M * WPT_M) == 0, TILE_N % (WG_N * WPT_N * ACC_INTERLEAVE) == 0
 * qtn.backends.opencl.kernel_macros validates the same rules before a build (and
 * refuses what the device cannot run); these #errors guard hand-made -D sets.
 *   VW              explicit vector width along n inside a work-item (default 1)
 *   ACC_INTERLEAVE  independent WPT_M x WPT_N blocks a work-item updates in turn per k
 *                   step (default 1). On an FPGA the WPT_M x WPT_N multiply-adds are the
 *                   unrolled PE array and this loop is pipelined: an accumulator is
 *                   updated every ACC_INTERLEAVE cycles, longer than the fp adder's
 *                   latency, so the loop runs at II=1. A work-item owns
 *                   WPT_M x (WPT_N * ACC_INTERLEAVE) outputs per pass.
 *   C_LOCAL         0 or 1 (default 0). With several passes per tile (see cgemm), 1 keeps
 *                   the TILE_M x TILE_N output tile in local memory across the K panels
 *                   and writes C once at the end; 0 adds each panel into C in global
 *                   memory (C read and written once per K panel).
 *   MAX_DIMS        most dims of a permutation (default 32)
 *   PERMUTE_ROWS    output rows one permute work-item copies (default 16)
 * The GEMM work-group is (WG_N, WG_M, 1); dimension 0 runs along n so that
 * neighbouring work-items (the lanes a CPU runtime vectorises over, or a GPU warp)
 * read neighbouring columns of B and write neighbouring columns of C.
 */

#pragma OPENCL FP_CONTRACT ON

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

#ifndef REAL
#define REAL float
#endif
#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)
#define REAL2 PASTE(REAL, 2)

#ifndef MAX_DIMS
#define MAX_DIMS 32 /* most dims of a permutation */
#endif
#ifndef PERMUTE_ROWS
#define PERMUTE_ROWS 16 /* output rows one permute work-item copies */
#endif

/* ---------------------------------------------------------------- permute */

/* Output dims in output order: their sizes and the source stride (in elements)
 * of each. Passed by value, so no metadata buffer crosses the bus. */
typedef struct {
    long shape[MAX_DIMS];
    long stride[MAX_DIMS];
} perm_t;

/* dst (C-contiguous, shape p.shape) = src viewed through p.stride.
 *
 * The output is seen as rows x n_inner, where a row runs over the last inner_dims
 * output dims (chosen by the host to hold enough elements for a vector of
 * work-items even when those dims are tiny). Dim 0 of the NDRange indexes within a
 * row, so neighbouring work-items write neighbouring elements; dim 1 picks a block
 * of PERMUTE_ROWS rows. Each work-item splits its in-row index once, then steps
 * from row to row with one modulo per row, so the index divisions are not paid per
 * element. */
__kernel void permute(__global const REAL2 *restrict src,
                      __global REAL2 *restrict dst,
                      const int ndim, const int inner_dims,
                      const long n_inner, const long n_rows, const perm_t p)
{
    const long j = get_global_id(0);
    const long row0 = (long)get_global_id(1) * PERMUTE_ROWS;
    if (j >= n_inner || row0 >= n_rows)
        return;
    const int outer = ndim - inner_dims; /* dims that index the rows; the host keeps >= 1 */

    long r = j, in_row = 0;
    for (int d = ndim - 1; d >= outer; --d) {
        const long q = r / p.shape[d];
        in_row += (r - q * p.shape[d]) * p.stride[d];
        r = q;
    }
    r = row0;
    long off = 0;
    for (int d = outer - 1; d >= 0; --d) {
        const long q = r / p.shape[d];
        off += (r - q * p.shape[d]) * p.stride[d];
        r = q;
    }

    const long row_end = min(row0 + PERMUTE_ROWS, n_rows);
    for (long row = row0; row < row_end; ++row) {
        dst[row * n_inner + j] = src[off + in_row];
        /* odometer: step the last outer dim, carrying while a dim wraps */
        long q = row + 1;
        int d = outer - 1;
        off += p.stride[d];
        while (d > 0 && q % p.shape[d] == 0) {
            off -= p.shape[d] * p.stride[d];
            q /= p.shape[d];
            off += p.stride[--d];
        }
    }
}

/* ------------------------------------------------------------------- GEMM */

#if !defined(TILE_M) || !defined(TILE_N) || !defined(TILE_K) || !defined(WPT_M) || !defined(WPT_N)
#error "TILE_M, TILE_N, TILE_K, WPT_M and WPT_N must be defined with -D"
#endif
#if TILE_M <= 0 || TILE_N <= 0 || TILE_K <= 0 || WPT_M <= 0 || WPT_N <= 0
#error "TILE_M, TILE_N, TILE_K, WPT_M and WPT_N must be positive integers"
#endif

#ifndef ACC_INTERLEAVE
#define ACC_INTERLEAVE 1
#endif
#if ACC_INTERLEAVE <= 0
#error "ACC_INTERLEAVE must be a positive integer"
#endif
#define WPT_NI (WPT_N * ACC_INTERLEAVE) /* columns a work-item owns per pass */

/* Work-group shape; by default one pass covers the tile (GPU style). Fewer
 * work-items make each one loop over several WPT_M x WPT_NI blocks of the tile. */
#ifndef WG_M
#define WG_M (TILE_M / WPT_M)
#endif
#ifndef WG_N
#define WG_N (TILE_N / WPT_NI)
#endif
#if WG_M <= 0 || WG_N <= 0 || TILE_M % (WG_M * WPT_M) != 0 || TILE_N % (WG_N * WPT_NI) != 0
#error "TILE_M must be a multiple of WG_M * WPT_M and TILE_N a multiple of WG_N * WPT_N * ACC_INTERLEAVE"
#endif
#ifndef C_LOCAL
#define C_LOCAL 0
#endif
#if C_LOCAL != 0 && C_LOCAL != 1
#error "C_LOCAL must be 0 or 1"
#endif
#define PASS_M (TILE_M / (WG_M * WPT_M))
#define PASS_N (TILE_N / (WG_N * WPT_NI))
#define WG_SIZE (WG_M * WG_N)

/* VW: explicit vector width along n inside a work-item (1, 2, 4, 8 or 16). Runtimes
 * that vectorise across work-items well (Intel's CPU runtime, GPUs) want VW 1;
 * PoCL wants the SIMD spelled out. */
#ifndef VW
#define VW 1
#endif
#if WPT_N % VW != 0
#error "WPT_N must be a multiple of VW"
#endif
#define VPT_N (WPT_N / VW) /* vectors per work-item along n in one PE block */
#define VPT_NI (VPT_N * ACC_INTERLEAVE) /* ... in all interleaved blocks */
/* VELEM(x, u): lane u of a REALV, through a pointer to its components (OpenCL C has
 * no variable lane index). No vloadN / vstoreN near the accumulators: PoCL 3.0
 * compiles those to calls into its library, and a call in the k loop spills every
 * accumulator (all vector registers are caller-saved) on every step. The staging
 * loops may call vloadN (one call per VW elements, no accumulators live). */
#if VW == 1
#define REALV REAL
#define VELEM(x, u) (x)
#else
#define REALV PASTE(REAL, VW)
#define VELEM(x, u) (((REAL *)&(x))[u])
#endif

/* The WPT_M x WPT_N block is the FPGA's PE array: Intel's compiler (INTELFPGA_CL)
 * always unrolls it. Elsewhere a big block (board tiles on a CPU) unrolls along n only,
 * so that LLVM compiles it in seconds; the arithmetic is the same. */
#if defined(INTELFPGA_CL) || WPT_M * VPT_N <= 64
#define UNROLL_ROWS _Pragma("unroll")
#else
#define UNROLL_ROWS _Pragma("unroll 1")
#endif

/* Write a work-item's WPT_M x WPT_NI block (first row r0, first column c0) into C,
 * skipping elements outside the M x N matrix. */
void store_block(__global REAL2 *restrict C, const int M, const int N, const int r0, const int c0,
                 REALV acc_re[WPT_M][VPT_NI], REALV acc_im[WPT_M][VPT_NI])
{
    /* the interleaved blocks in a loop, not unrolled: big FPGA blocks stay compact */
    for (int jj = 0; jj < ACC_INTERLEAVE; ++jj)
UNROLL_ROWS
    for (int wm = 0; wm < WPT_M; ++wm) {
        const int gr = r0 + wm * WG_M;
#pragma unroll
        for (int vv = 0; vv < VPT_N; ++vv) {
            const int v = jj * VPT_N + vv;
#pragma unroll
            for (int u = 0; u < VW; ++u) {
                const int gc = c0 + v * WG_N * VW + u;
                if (gr < M && gc < N)
                    C[(long)gr * N + gc] = (REAL2)(VELEM(acc_re[wm][v], u), VELEM(acc_im[wm][v], u));
            }
        }
    }
}

/* C[b] = A[b] @ B[b] for b = batch0 + get_global_id(2), A[b] (M, K), B[b] (K, N),
 * C[b] (M, N), all row-major. a_batch / b_batch are batch strides in elements (0
 * broadcasts one matrix over the batch). group_m0 / batch0 let the host split a
 * large product into several launches. Sizes need not be tile multiples: tile loads
 * outside the matrices read zeros and stores outside C are skipped, so no padded
 * copies exist.
 *
 * With one pass (PASS_M == PASS_N == 1) the accumulators stay in registers for the
 * whole K loop. With several, a work-item cannot hold them all, so each pass adds its
 * TILE_K panel's contribution to what the output tile holds so far: in local memory
 * with C_LOCAL (aligned vector loads and stores; C is written once at the end), else
 * in C itself (read and written once per panel). A work-group of one work-item (a
 * CPU's micro-kernel, an FPGA's pipeline) needs no barrier at all. */
__kernel __attribute__((reqd_work_group_size(WG_N, WG_M, 1)))
void cgemm(const int M, const int N, const int K,
           const int group_m0, const long batch0,
           __global const REAL2 *restrict A, const long a_batch,
           __global const REAL2 *restrict B, const long b_batch,
           __global REAL2 *restrict C)
{
    /* A and B are split into real and imaginary planes. All lanes of a row read the
     * same A element: a broadcast, which a CPU loads straight from memory (from an
     * interleaved pair it would take two shuffles, on the port an FMA unit shares).
     * Consecutive columns of B are one plain vector load per plane, not a gather. */
    __local REAL Are[TILE_M][TILE_K] __attribute__((aligned(sizeof(REALV))));
    __local REAL Aim[TILE_M][TILE_K] __attribute__((aligned(sizeof(REALV))));
    /* VW-wide vectors (aligned, so the k loop reads them with plain vector loads);
     * the staging loop writes their lanes through Bre_s / Bim_s */
    __local REALV Bre[TILE_K][TILE_N / VW];
    __local REALV Bim[TILE_K][TILE_N / VW];
    __local REAL *const Bre_s = (__local REAL *)Bre;
    __local REAL *const Bim_s = (__local REAL *)Bim;
#if C_LOCAL && PASS_M * PASS_N > 1
    /* the output tile, held across the K panels (same vector layout as B's planes) */
    __local REALV Cre[TILE_M][TILE_N / VW];
    __local REALV Cim[TILE_M][TILE_N / VW];
#endif

    const int tn = get_local_id(0);
    const int tm = get_local_id(1);
    const int tid = tm * WG_N + tn;
    const int n0 = get_group_id(0) * TILE_N;
    const int m0 = (group_m0 + (int)get_group_id(1)) * TILE_M;
    const long batch = batch0 + get_global_id(2);
    A += batch * a_batch;
    B += batch * b_batch;
    C += batch * (long)M * N;

    /* In pass (pm, pn) work-item (tn, tm) owns rows pm * WG_M * WPT_M + tm + wm * WG_M
     * and the VW-wide column groups at pn * WG_N * WPT_NI + (v * WG_N + tn) * VW. */
    REALV acc_re[WPT_M][VPT_NI];
    REALV acc_im[WPT_M][VPT_NI];
#if PASS_M * PASS_N == 1
    for (int jj = 0; jj < ACC_INTERLEAVE; ++jj)
UNROLL_ROWS
    for (int wm = 0; wm < WPT_M; ++wm)
#pragma unroll
        for (int vv = 0; vv < VPT_N; ++vv)
            acc_re[wm][jj * VPT_N + vv] = acc_im[wm][jj * VPT_N + vv] = 0;
#endif

    for (int k0 = 0; k0 < K; k0 += TILE_K) {
        /* Stage the tiles; every work-item copies an equal share. */
#if WG_SIZE == 1
        /* one work-item (CPU, FPGA): rows by columns, the bounds tests hoisted out of
         * the inner loops. With explicit vectors, VW complex numbers at a time are two
         * REALV loads split into their even (real) and odd (imaginary) lanes: one
         * aligned vector store per plane (LLVM does not vectorise the scalar loop). */
        for (int r = 0; r < TILE_M; ++r) {
            const int gr = m0 + r;
            const int cols = gr < M ? min(TILE_K, K - k0) : 0;
            __global const REAL2 *row = A + (long)gr * K + k0;
            int c = 0;
#if VW > 1 && TILE_K % VW == 0
            for (; c + VW <= cols; c += VW) {
                const REALV lo = PASTE(vload, VW)(0, (__global const REAL *)(row + c));
                const REALV hi = PASTE(vload, VW)(0, (__global const REAL *)(row + c) + VW);
                *(__local REALV *)&Are[r][c] = (REALV)(lo.even, hi.even);
                *(__local REALV *)&Aim[r][c] = (REALV)(lo.odd, hi.odd);
            }
#endif
            for (; c < cols; ++c) {
                const REAL2 v = row[c];
                Are[r][c] = v.x;
                Aim[r][c] = v.y;
            }
            for (int c = cols; c < TILE_K; ++c)
                Are[r][c] = Aim[r][c] = 0;
        }
        for (int r = 0; r < TILE_K; ++r) {
            const int gr = k0 + r;
            const int cols = gr < K ? min(TILE_N, N - n0) : 0;
            __global const REAL2 *row = B + (long)gr * N + n0;
            int c = 0;
#if VW > 1
            for (; c + VW <= cols; c += VW) {
                const REALV lo = PASTE(vload, VW)(0, (__global const REAL *)(row + c));
                const REALV hi = PASTE(vload, VW)(0, (__global const REAL *)(row + c) + VW);
                Bre[r][c / VW] = (REALV)(lo.even, hi.even);
                Bim[r][c / VW] = (REALV)(lo.odd, hi.odd);
            }
#endif
            for (; c < cols; ++c) {
                const REAL2 v = row[c];
                Bre_s[r * TILE_N + c] = v.x;
                Bim_s[r * TILE_N + c] = v.y;
            }
            for (int c = cols; c < TILE_N; ++c)
                Bre_s[r * TILE_N + c] = Bim_s[r * TILE_N + c] = 0;
        }
#else
        for (int i = tid; i < TILE_M * TILE_K; i += WG_SIZE) {
            const int r = i / TILE_K, c = i % TILE_K;
            const int gr = m0 + r, gc = k0 + c;
            const REAL2 v = (gr < M && gc < K) ? A[(long)gr * K + gc] : (REAL2)(0);
            Are[r][c] = v.x;
            Aim[r][c] = v.y;
        }
        for (int i = tid; i < TILE_K * TILE_N; i += WG_SIZE) {
            const int r = i / TILE_N, c = i % TILE_N;
            const int gr = k0 + r, gc = n0 + c;
            const REAL2 v = (gr < K && gc < N) ? B[(long)gr * N + gc] : (REAL2)(0);
            Bre_s[r * TILE_N + c] = v.x;
            Bim_s[r * TILE_N + c] = v.y;
        }
#endif
        barrier(CLK_LOCAL_MEM_FENCE);
        const int k_end = min(TILE_K, K - k0); /* no multiply-adds with the zero rows */

        for (int pm = 0; pm < PASS_M; ++pm) {
            for (int pn = 0; pn < PASS_N; ++pn) {
                const int rm = pm * WG_M * WPT_M + tm;
                const int cn = pn * WG_N * WPT_NI + tn * VW;
#if PASS_M * PASS_N > 1
                /* a pass wholly outside C does nothing (big FPGA tiles on small products) */
                if (m0 + pm * WG_M * WPT_M >= M || n0 + pn * WG_N * WPT_NI >= N)
                    continue;
                /* this panel's contribution is added to what C holds so far */
#if C_LOCAL
                for (int jj = 0; jj < ACC_INTERLEAVE; ++jj)
UNROLL_ROWS
                for (int wm = 0; wm < WPT_M; ++wm)
#pragma unroll
                    for (int vv = 0; vv < VPT_N; ++vv) {
                        const int v = jj * VPT_N + vv;
                        const int r = rm + wm * WG_M, cv = cn / VW + v * WG_N;
                        acc_re[wm][v] = k0 > 0 ? Cre[r][cv] : (REALV)(0);
                        acc_im[wm][v] = k0 > 0 ? Cim[r][cv] : (REALV)(0);
                    }
#else
                for (int jj = 0; jj < ACC_INTERLEAVE; ++jj)
UNROLL_ROWS
                for (int wm = 0; wm < WPT_M; ++wm) {
                    const int gr = m0 + rm + wm * WG_M;
#pragma unroll
                    for (int vv = 0; vv < VPT_N; ++vv) {
                        const int v = jj * VPT_N + vv;
#pragma unroll
                        for (int u = 0; u < VW; ++u) {
                            const int gc = n0 + cn + v * WG_N * VW + u;
                            const REAL2 c = (k0 > 0 && gr < M && gc < N) ? C[(long)gr * N + gc] : (REAL2)(0);
                            VELEM(acc_re[wm][v], u) = c.x;
                            VELEM(acc_im[wm][v], u) = c.y;
                        }
                    }
                }
#endif
#endif
                for (int k = 0; k < k_end; ++k) {
                    /* one PE block per iteration; on an FPGA this loop is pipelined and
                     * the same accumulator comes round every ACC_INTERLEAVE cycles */
                    for (int jj = 0; jj < ACC_INTERLEAVE; ++jj) {
                        REALV bre[VPT_N], bim[VPT_N];
#pragma unroll
                        for (int v = 0; v < VPT_N; ++v) {
                            bre[v] = Bre[k][cn / VW + (jj * VPT_N + v) * WG_N];
                            bim[v] = Bim[k][cn / VW + (jj * VPT_N + v) * WG_N];
                        }
UNROLL_ROWS
                        for (int wm = 0; wm < WPT_M; ++wm) {
                            const REALV ar = (REALV)(Are[rm + wm * WG_M][k]);
                            const REALV ai = (REALV)(Aim[rm + wm * WG_M][k]);
#pragma unroll
                            for (int v = 0; v < VPT_N; ++v) {
                                /* (a.x + i a.y)(b.x + i b.y): 4 multiply-adds, contracted
                                 * to FMAs by the compiler (FP_CONTRACT ON). Not fma():
                                 * PoCL's vector fma() is a library call on some CPUs. */
                                const int at = jj * VPT_N + v;
                                acc_re[wm][at] += ar * bre[v];
                                acc_re[wm][at] -= ai * bim[v];
                                acc_im[wm][at] += ar * bim[v];
                                acc_im[wm][at] += ai * bre[v];
                            }
                        }
                    }
                }
#if PASS_M * PASS_N > 1 && C_LOCAL
                for (int jj = 0; jj < ACC_INTERLEAVE; ++jj)
UNROLL_ROWS
                for (int wm = 0; wm < WPT_M; ++wm)
#pragma unroll
                    for (int vv = 0; vv < VPT_N; ++vv) {
                        const int v = jj * VPT_N + vv;
                        const int r = rm + wm * WG_M, cv = cn / VW + v * WG_N;
                        Cre[r][cv] = acc_re[wm][v];
                        Cim[r][cv] = acc_im[wm][v];
                    }
#elif PASS_M * PASS_N > 1
                store_block(C, M, N, m0 + rm, n0 + cn, acc_re, acc_im);
#endif
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
#if PASS_M * PASS_N == 1
    store_block(C, M, N, m0 + tm, n0 + tn * VW, acc_re, acc_im);
#elif C_LOCAL
    /* the finished tile goes out once, every work-item writing an equal share */
    __local const REAL *const Cre_s = (__local const REAL *)Cre;
    __local const REAL *const Cim_s = (__local const REAL *)Cim;
    const int rows = min(TILE_M, M - m0), cols = min(TILE_N, N - n0);
    for (int r = tm; r < rows; r += WG_M) {
        __global REAL2 *row = C + (long)(m0 + r) * N + n0;
        for (int c = tn; c < cols; c += WG_N)
            row[c] = (REAL2)(Cre_s[r * TILE_N + c], Cim_s[r * TILE_N + c]);
    }
#endif
}
