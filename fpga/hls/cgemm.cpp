// Complex GEMM kernel for FPGAs, written for Vitis HLS and run on the host as a
// C simulation (g++ ignores the HLS pragmas; they are the ones to synthesize).
//
//   C[b] = A[b] @ B[b]   for b < batch;  A: m x k, B: k x n, C: m x n
//
// Arrays are row-major, interleaved complex (re, im), i.e. numpy complex64 /
// complex128 memory. Sizes come from config.h, generated per board by
// qtn.fpga.boards.write_hls_config (TILE_M/N/K, PE_M/N, ACC_INTERLEAVE).
//
// Architecture (see fpga/README.md):
//  * a PE_M x PE_N array of complex multiply-adders, fully unrolled;
//  * the TILE_M x TILE_N output tile lives on chip, one accumulator bank per PE;
//  * A (TILE_M x TILE_K) and B (TILE_K x TILE_N) panels are double buffered
//    (ping/pong banks): the next panel loads while the current one is computed;
//  * each PE interleaves ACC_INTERLEAVE output blocks so an accumulator is updated
//    only every ACC_INTERLEAVE cycles, longer than the fp adder latency: II=1.
// Loops have run-time trip counts, so a partial tile costs only its PE-padded size.

#include <cstddef>
#include <cstdint>

#include "config.h"

namespace qtn {

template <typename T>
struct cplx {
  T re;
  T im;
};

template <typename T, int TM, int TN, int TK, int PM, int PN, int ILV>
struct CGemm {
  static_assert(TM > 0 && TN > 0 && TK > 0 && PM > 0 && PN > 0 && ILV > 0, "sizes must be positive");
  static_assert(TM % PM == 0, "TILE_M must be a multiple of PE_M");
  static_assert(TN % (PN * ILV) == 0, "TILE_N must be a multiple of PE_N * ACC_INTERLEAVE");

  static constexpr int BM = TM / PM;  // PE blocks down an output tile
  static constexpr int BN = TN / PN;  // PE blocks across an output tile

  using C = cplx<T>;
  using CTile = C[BM][BN][PM][PN];
  using APanel = C[BM][TK][PM];
  using BPanel = C[BN][TK][PN];

  // A panel rows [i0, i0 + mt) x cols [k0, k0 + kt); rows up to the PE padding are zero.
  static void load_a(const T* A, int k, int i0, int mt, int k0, int kt, APanel a) {
    const int rows = (mt + PM - 1) / PM * PM;
  load_a_rows:
    for (int r = 0; r < rows; ++r) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = TM
    load_a_cols:
      for (int kk = 0; kk < kt; ++kk) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = TK
#pragma HLS PIPELINE II = 1
        C v = {T(0), T(0)};
        if (r < mt) {
          const std::size_t at = 2 * ((std::size_t)(i0 + r) * (std::size_t)k + (std::size_t)(k0 + kk));
          v.re = A[at];
          v.im = A[at + 1];
        }
        a[r / PM][kk][r % PM] = v;
      }
    }
  }

  // B panel rows [k0, k0 + kt) x cols [j0, j0 + nt); cols up to whole interleave
  // groups are zero.
  static void load_b(const T* B, int n, int k0, int kt, int j0, int nt, BPanel b) {
    const int cols = (nt + PN * ILV - 1) / (PN * ILV) * (PN * ILV);
  load_b_rows:
    for (int kk = 0; kk < kt; ++kk) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = TK
    load_b_cols:
      for (int c = 0; c < cols; ++c) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = TN
#pragma HLS PIPELINE II = 1
        C v = {T(0), T(0)};
        if (c < nt) {
          const std::size_t at = 2 * ((std::size_t)(k0 + kk) * (std::size_t)n + (std::size_t)(j0 + c));
          v.re = B[at];
          v.im = B[at + 1];
        }
        b[c / PN][kk][c % PN] = v;
      }
    }
  }

  // kt outer products of the PE-padded (mt x nt) part of the tile.
  static void compute(const APanel a, const BPanel b, CTile acc, int mblocks, int ngroups, int kt) {
  pe_rows:
    for (int ib = 0; ib < mblocks; ++ib) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = BM
    pe_groups:
      for (int g = 0; g < ngroups; ++g) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = BN / ILV
      k_steps:
        for (int kk = 0; kk < kt; ++kk) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = TK
        interleave:
          for (int jj = 0; jj < ILV; ++jj) {
#pragma HLS PIPELINE II = 1
            // acc[ib][jb] is touched again ILV iterations later: more than the adder latency.
#pragma HLS DEPENDENCE variable = acc type = inter direction = RAW distance = ILV dependent = true
            const int jb = g * ILV + jj;
          pe_m:
            for (int pi = 0; pi < PM; ++pi) {
#pragma HLS UNROLL
              const T ar = a[ib][kk][pi].re;
              const T ai = a[ib][kk][pi].im;
              // flat (re, im) views: g++ vectorizes this loop in the C simulation
              T* __restrict row = &acc[ib][jb][pi][0].re;
              const T* __restrict brow = &b[jb][kk][0].re;
            pe_n:
#ifndef __SYNTHESIS__
#pragma GCC unroll 4  // C simulation only: full unrolling here stops g++ vectorizing it
#endif
              for (int q = 0; q < 2 * PN; q += 2) {
#pragma HLS UNROLL
                const T br = brow[q];
                const T bi = brow[q + 1];
                row[q] += ar * br - ai * bi;
                row[q + 1] += ar * bi + ai * br;
              }
            }
          }
        }
      }
    }
  }

  // One K panel: load the next panels while computing the current ones. The three
  // calls share no buffer, so DATAFLOW runs them concurrently on the device.
  static void panel_step(const T* A, const T* B, int k, int n, int i0, int mt, int j0, int nt,
                         int next_k0, int next_kt, APanel a_next, BPanel b_next,
                         const APanel a_cur, const BPanel b_cur, CTile acc, int mblocks, int ngroups, int kt) {
#pragma HLS DATAFLOW
    // after the last panel next_kt is 0 and the loads do nothing (no conditional
    // process, which DATAFLOW would not accept)
    load_a(A, k, i0, mt, next_k0, next_kt, a_next);
    load_b(B, n, next_k0, next_kt, j0, nt, b_next);
    compute(a_cur, b_cur, acc, mblocks, ngroups, kt);
  }

  static void store_c(T* Cm, int n, int i0, int mt, int j0, int nt, const CTile acc) {
  store_rows:
    for (int r = 0; r < mt; ++r) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = TM
    store_cols:
      for (int c = 0; c < nt; ++c) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = TN
#pragma HLS PIPELINE II = 1
        const C v = acc[r / PM][c / PN][r % PM][c % PN];
        const std::size_t at = 2 * ((std::size_t)(i0 + r) * (std::size_t)n + (std::size_t)(j0 + c));
        Cm[at] = v.re;
        Cm[at + 1] = v.im;
      }
    }
  }

  static void run(const T* A, const T* B, T* Cm, int batch, int m, int k, int n) {
    // On-chip buffers: static, so they map to BRAM/URAM on the device and to .bss here.
    static CTile acc;
#pragma HLS ARRAY_PARTITION variable = acc complete dim = 3
#pragma HLS ARRAY_PARTITION variable = acc complete dim = 4
#pragma HLS AGGREGATE variable = acc compact = bit
    static APanel a_ping, a_pong;
#pragma HLS ARRAY_PARTITION variable = a_ping complete dim = 3
#pragma HLS ARRAY_PARTITION variable = a_pong complete dim = 3
#pragma HLS AGGREGATE variable = a_ping compact = bit
#pragma HLS AGGREGATE variable = a_pong compact = bit
    static BPanel b_ping, b_pong;
#pragma HLS ARRAY_PARTITION variable = b_ping complete dim = 3
#pragma HLS ARRAY_PARTITION variable = b_pong complete dim = 3
#pragma HLS AGGREGATE variable = b_ping compact = bit
#pragma HLS AGGREGATE variable = b_pong compact = bit

    if (batch <= 0 || m <= 0 || n <= 0 || k < 0) return;
    const std::size_t a_stride = 2 * (std::size_t)m * (std::size_t)k;
    const std::size_t b_stride = 2 * (std::size_t)k * (std::size_t)n;
    const std::size_t c_stride = 2 * (std::size_t)m * (std::size_t)n;
  batches:
    for (int bi = 0; bi < batch; ++bi) {
      const T* Ab = A + bi * a_stride;
      const T* Bb = B + bi * b_stride;
      T* Cb = Cm + bi * c_stride;
    tile_rows:
      for (int i0 = 0; i0 < m; i0 += TM) {
        const int mt = m - i0 < TM ? m - i0 : TM;
        const int mblocks = (mt + PM - 1) / PM;
      tile_cols:
        for (int j0 = 0; j0 < n; j0 += TN) {
          const int nt = n - j0 < TN ? n - j0 : TN;
          const int ngroups = (nt + PN * ILV - 1) / (PN * ILV);
        zero_rows:
          for (int ib = 0; ib < mblocks; ++ib) {
          zero_cols:
            for (int jb = 0; jb < ngroups * ILV; ++jb) {
#pragma HLS PIPELINE II = 1
              for (int pi = 0; pi < PM; ++pi)
                for (int pj = 0; pj < PN; ++pj) acc[ib][jb][pi][pj] = C{T(0), T(0)};
            }
          }
          const int npanels = (k + TK - 1) / TK;
          if (npanels > 0) {
            const int kt0 = k < TK ? k : TK;
            load_a(Ab, k, i0, mt, 0, kt0, a_ping);
            load_b(Bb, n, 0, kt0, j0, nt, b_ping);
          }
        k_panels:
          for (int p = 0; p < npanels; ++p) {
            const int k0 = p * TK;
            const int kt = k - k0 < TK ? k - k0 : TK;
            const int nk0 = k0 + TK;
            const int nkt = nk0 >= k ? 0 : (k - nk0 < TK ? k - nk0 : TK);
            if (p % 2 == 0)
              panel_step(Ab, Bb, k, n, i0, mt, j0, nt, nk0, nkt, a_pong, b_pong, a_ping, b_ping, acc, mblocks,
                         ngroups, kt);
            else
              panel_step(Ab, Bb, k, n, i0, mt, j0, nt, nk0, nkt, a_ping, b_ping, a_pong, b_pong, acc, mblocks,
                         ngroups, kt);
          }
          store_c(Cb, n, i0, mt, j0, nt, acc);
        }
      }
    }
  }
};

using CGemm64 = CGemm<float, QTN_C64_TILE_M, QTN_C64_TILE_N, QTN_C64_TILE_K, QTN_C64_PE_M, QTN_C64_PE_N,
                      QTN_C64_ACC_INTERLEAVE>;
using CGemm128 = CGemm<double, QTN_C128_TILE_M, QTN_C128_TILE_N, QTN_C128_TILE_K, QTN_C128_PE_M, QTN_C128_PE_N,
                       QTN_C128_ACC_INTERLEAVE>;

}  // namespace qtn

extern "C" {

// complex64: A, B, C point at interleaved float pairs.
void qtn_cgemm_c64(const float* A, const float* B, float* C, int batch, int m, int k, int n) {
#pragma HLS INTERFACE mode = m_axi port = A offset = slave bundle = gmem0 max_read_burst_length = 64
#pragma HLS INTERFACE mode = m_axi port = B offset = slave bundle = gmem1 max_read_burst_length = 64
#pragma HLS INTERFACE mode = m_axi port = C offset = slave bundle = gmem2 max_write_burst_length = 64
#pragma HLS INTERFACE mode = s_axilite port = batch
#pragma HLS INTERFACE mode = s_axilite port = m
#pragma HLS INTERFACE mode = s_axilite port = k
#pragma HLS INTERFACE mode = s_axilite port = n
#pragma HLS INTERFACE mode = s_axilite port = return
  qtn::CGemm64::run(A, B, C, batch, m, k, n);
}

// complex128: A, B, C point at interleaved double pairs.
void qtn_cgemm_c128(const double* A, const double* B, double* C, int batch, int m, int k, int n) {
#pragma HLS INTERFACE mode = m_axi port = A offset = slave bundle = gmem0 max_read_burst_length = 64
#pragma HLS INTERFACE mode = m_axi port = B offset = slave bundle = gmem1 max_read_burst_length = 64
#pragma HLS INTERFACE mode = m_axi port = C offset = slave bundle = gmem2 max_write_burst_length = 64
#pragma HLS INTERFACE mode = s_axilite port = batch
#pragma HLS INTERFACE mode = s_axilite port = m
#pragma HLS INTERFACE mode = s_axilite port = k
#pragma HLS INTERFACE mode = s_axilite port = n
#pragma HLS INTERFACE mode = s_axilite port = return
  qtn::CGemm128::run(A, B, C, batch, m, k, n);
}

}  // extern "C"
