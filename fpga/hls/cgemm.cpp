// Complex GEMM kernel for FPGAs, written for Vitis HLS and run on the host as a
// C simulation (g++ ignores the HLS pragmas; they are the ones to synthesize).
//
//   C[b] = A[b] @ B[b]   for b < batch;  A: m x k, B: k x n, C: m x n
//
// Arrays are row-major, interleaved complex (re, im), i.e. numpy complex64 /
// complex128 memory, moved through 512-bit AXI ports (`wide`, 8 complex64 or 4
// complex128 per word). The host pads k and n to whole words (zeros; the `hls`
// backend does this), so every read is an unconditional burst of whole words.
// Sizes come from config.h, generated per board by qtn.fpga.boards.write_hls_config.
//
// Architecture (see fpga/README.md):
//  * one DATAFLOW region of four processes joined by FIFOs: read_a and read_b burst
//    the A and B panels of each output tile from off-chip memory, compute keeps the
//    TILE_M x TILE_N output tile on chip, write_c bursts each finished tile back;
//  * compute: a PE_M x PE_N array of complex multiply-adders, fully unrolled; the
//    next A/B panels are unpacked into the pong buffers while the PE array reads the
//    ping ones (a nested DATAFLOW per K panel);
//  * operand fan-out is bounded: each A value reaches its PE row through
//    ceil(PE_N / FANOUT) registered copies, each B value its PE column through
//    ceil(PE_M / FANOUT), so no net drives more than max(copies, FANOUT) PEs;
//  * each PE interleaves ACC_INTERLEAVE output blocks so an accumulator is updated
//    only every ACC_INTERLEAVE cycles, longer than the fp adder latency: II=1;
//  * every buffer is bound (BIND_STORAGE) to the memory kind qtn.fpga.boards counted
//    for it, and config.h checks each kind's blocks against its usable share.
// Loops have run-time trip counts, so a partial tile costs only its PE-padded size.

#include <cstddef>
#include <cstdint>

#include "config.h"

#if __has_include(<hls_stream.h>)
#include <hls_stream.h>
#else
#include <deque>
namespace hls {
// C simulation without the Vitis headers: an unbounded FIFO with hls::stream's calls.
template <typename T>
class stream {
 public:
  void write(const T& v) { q_.push_back(v); }
  T read() {
    T v = q_.front();
    q_.pop_front();
    return v;
  }
  bool empty() const { return q_.empty(); }

 private:
  std::deque<T> q_;
};
}  // namespace hls
#endif

// A pragma whose arguments are macros (the memory kinds of config.h).
#define QTN_PRAGMA_(x) _Pragma(#x)
#define QTN_PRAGMA(x) QTN_PRAGMA_(x)

namespace qtn {

//: Most PEs one register drives (fan-out bound of the operand trees).
constexpr int FANOUT = 4;

template <typename T>
struct cplx {
  T re;
  T im;
};

// One 512-bit bus word: 64 bytes of interleaved (re, im) pairs.
template <typename T>
struct alignas(64) wide {
  static constexpr int CPW = 64 / (2 * sizeof(T));  // complex numbers per word
  T v[2 * CPW];
};
static_assert(sizeof(wide<float>) == 64 && sizeof(wide<double>) == 64, "AXI ports must be 512 bits wide");

// A register stage (as hls::reg): keeps the operand trees from being merged back.
template <typename T>
T reg(T x) {
#pragma HLS INLINE off
#pragma HLS LATENCY min = 1 max = 1
  return x;
}

template <typename T, int TM, int TN, int TK, int PM, int PN, int ILV>
struct CGemm {
  static_assert(TM > 0 && TN > 0 && TK > 0 && PM > 0 && PN > 0 && ILV > 0, "sizes must be positive");
  static_assert(TM % PM == 0, "TILE_M must be a multiple of PE_M");
  static_assert(TN % (PN * ILV) == 0, "TILE_N must be a multiple of PE_N * ACC_INTERLEAVE");
  static constexpr int CPW = wide<T>::CPW;
  static_assert(TK % CPW == 0 && TN % CPW == 0, "TILE_K and TILE_N must be whole 512-bit words");

  static constexpr int BM = TM / PM;  // PE blocks down an output tile
  static constexpr int BN = TN / PN;  // PE blocks across an output tile
  static constexpr int AC = (PN + FANOUT - 1) / FANOUT;  // copies of an A value (one per FANOUT PEs)
  static constexpr int BC = (PM + FANOUT - 1) / FANOUT;  // copies of a B value

  using C = cplx<T>;
  using W = wide<T>;
  using CTile = C[BM][BN][PM][PN];
  using APanel = C[BM][TK][PM];
  using BPanel = C[BN][TK][PN];

  // Tile geometry shared by the four processes (all run the same loop nest).
  struct Tile {
    int i0, mt, j0, nt;
  };
  static int tiles_m(int m) { return (m + TM - 1) / TM; }
  static int tiles_n(int n) { return (n + TN - 1) / TN; }
  static Tile tile(int tr, int tc, int m, int n) {
    const int i0 = tr * TM, j0 = tc * TN;
    return {i0, m - i0 < TM ? m - i0 : TM, j0, n - j0 < TN ? n - j0 : TN};
  }
  static int panel_depth(int k, int k0) { return k - k0 < TK ? k - k0 : TK; }

  // Off-chip -> FIFO: for every tile and K panel, mt rows of kt/CPW whole words.
  static void read_a(const W* A, hls::stream<W>& out, int batch, int m, int k, int n) {
    const int kw = k / CPW;  // words per row (k is padded to whole words)
  a_batches:
    for (int bi = 0; bi < batch; ++bi)
    a_tile_rows:
      for (int tr = 0; tr < tiles_m(m); ++tr)
      a_tile_cols:
        for (int tc = 0; tc < tiles_n(n); ++tc)
        a_panels:
          for (int k0 = 0; k0 < k; k0 += TK) {
            const Tile t = tile(tr, tc, m, n);
            const int words = panel_depth(k, k0) / CPW;
          a_rows:
            for (int r = 0; r < t.mt; ++r) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = TM
              const W* row = A + ((std::size_t)bi * m + t.i0 + r) * kw + k0 / CPW;
            a_words:
              for (int w = 0; w < words; ++w) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = TK / CPW
#pragma HLS PIPELINE II = 1
                out.write(row[w]);
              }
            }
          }
  }

  // Off-chip -> FIFO: for every tile and K panel, kt rows of nt/CPW whole words.
  static void read_b(const W* B, hls::stream<W>& out, int batch, int m, int k, int n) {
    const int nw = n / CPW;
  b_batches:
    for (int bi = 0; bi < batch; ++bi)
    b_tile_rows:
      for (int tr = 0; tr < tiles_m(m); ++tr)
      b_tile_cols:
        for (int tc = 0; tc < tiles_n(n); ++tc)
        b_panels:
          for (int k0 = 0; k0 < k; k0 += TK) {
            const Tile t = tile(tr, tc, m, n);
            const int kt = panel_depth(k, k0), words = t.nt / CPW;
          b_rows:
            for (int kk = 0; kk < kt; ++kk) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = TK
              const W* row = B + ((std::size_t)bi * k + k0 + kk) * nw + t.j0 / CPW;
            b_words:
              for (int w = 0; w < words; ++w) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = TN / CPW
#pragma HLS PIPELINE II = 1
                out.write(row[w]);
              }
            }
          }
  }

  // FIFO -> on-chip panels, one word (CPW complex) per cycle. Rows past mt and
  // columns past nt are not written: the accumulators they feed are never stored.
  static void unpack_a(hls::stream<W>& in, APanel a, int mt, int kt) {
  ua_rows:
    for (int r = 0; r < mt; ++r) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = TM
    ua_words:
      for (int w = 0; w < kt / CPW; ++w) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = TK / CPW
#pragma HLS PIPELINE II = 1
        const W word = in.read();
        for (int q = 0; q < CPW; ++q) {
#pragma HLS UNROLL
          a[r / PM][w * CPW + q][r % PM] = C{word.v[2 * q], word.v[2 * q + 1]};
        }
      }
    }
  }

  static void unpack_b(hls::stream<W>& in, BPanel b, int nt, int kt) {
  ub_rows:
    for (int kk = 0; kk < kt; ++kk) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = TK
    ub_words:
      for (int w = 0; w < nt / CPW; ++w) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = TN / CPW
#pragma HLS PIPELINE II = 1
        const W word = in.read();
        for (int q = 0; q < CPW; ++q) {
#pragma HLS UNROLL
          const int c = w * CPW + q;
          b[c / PN][kk][c % PN] = C{word.v[2 * q], word.v[2 * q + 1]};
        }
      }
    }
  }

  // kt outer products of the PE-padded (mt x nt) part of the tile; `first` starts
  // the accumulators (no separate zeroing pass).
  static void mac(const APanel a, const BPanel b, CTile acc, int mblocks, int ngroups, int kt, bool first) {
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
            const bool start = first && kk == 0;
            // operand trees: one registered copy per FANOUT PEs
            C a_copy[PM][AC], b_copy[PN][BC];
#pragma HLS ARRAY_PARTITION variable = a_copy complete dim = 0
#pragma HLS ARRAY_PARTITION variable = b_copy complete dim = 0
            for (int pi = 0; pi < PM; ++pi)
              for (int c = 0; c < AC; ++c) a_copy[pi][c] = reg(a[ib][kk][pi]);
            for (int pj = 0; pj < PN; ++pj)
              for (int c = 0; c < BC; ++c) b_copy[pj][c] = reg(b[jb][kk][pj]);
          pe_m:
            for (int pi = 0; pi < PM; ++pi) {
#pragma HLS UNROLL
            pe_n:
              for (int pj = 0; pj < PN; ++pj) {
#pragma HLS UNROLL
                const C x = a_copy[pi][pj / FANOUT];
                const C y = b_copy[pj][pi / FANOUT];
                C& s = acc[ib][jb][pi][pj];
                const T re = x.re * y.re - x.im * y.im;
                const T im = x.re * y.im + x.im * y.re;
                s.re = start ? re : s.re + re;
                s.im = start ? im : s.im + im;
              }
            }
          }
        }
      }
    }
  }

  // One K panel: unpack the next panels while the PE array works on the current ones.
  // The three calls share no buffer, so DATAFLOW runs them concurrently.
  static void panel_step(hls::stream<W>& a_in, hls::stream<W>& b_in, APanel a_next, BPanel b_next, int mt, int nt,
                         int next_kt, const APanel a_cur, const BPanel b_cur, CTile acc, int mblocks, int ngroups,
                         int kt, bool first) {
#pragma HLS DATAFLOW
    // after the last panel next_kt is 0 and the unpacks do nothing
    unpack_a(a_in, a_next, mt, next_kt);
    unpack_b(b_in, b_next, nt, next_kt);
    mac(a_cur, b_cur, acc, mblocks, ngroups, kt, first);
  }

  // On-chip tile -> FIFO, one word (CPW complex) per cycle.
  static void drain(const CTile acc, hls::stream<W>& out, const Tile& t, bool zero) {
  drain_rows:
    for (int r = 0; r < t.mt; ++r) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = TM
    drain_words:
      for (int w = 0; w < t.nt / CPW; ++w) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = TN / CPW
#pragma HLS PIPELINE II = 1
        W word;
        for (int q = 0; q < CPW; ++q) {
#pragma HLS UNROLL
          const int c = w * CPW + q;
          const C v = acc[r / PM][c / PN][r % PM][c % PN];
          word.v[2 * q] = zero ? T(0) : v.re;
          word.v[2 * q + 1] = zero ? T(0) : v.im;
        }
        out.write(word);
      }
    }
  }

  static void compute(hls::stream<W>& a_in, hls::stream<W>& b_in, hls::stream<W>& c_out, CTile acc,
                      APanel a_ping, APanel a_pong, BPanel b_ping, BPanel b_pong, int batch, int m, int k, int n) {
  c_batches:
    for (int bi = 0; bi < batch; ++bi)
    c_tile_rows:
      for (int tr = 0; tr < tiles_m(m); ++tr)
      c_tile_cols:
        for (int tc = 0; tc < tiles_n(n); ++tc) {
          const Tile t = tile(tr, tc, m, n);
          const int mblocks = (t.mt + PM - 1) / PM;
          const int ngroups = (t.nt + PN * ILV - 1) / (PN * ILV);
          if (k > 0) {
            unpack_a(a_in, a_ping, t.mt, panel_depth(k, 0));
            unpack_b(b_in, b_ping, t.nt, panel_depth(k, 0));
          }
        k_panels:
          for (int k0 = 0, p = 0; k0 < k; k0 += TK, ++p) {
            const int kt = panel_depth(k, k0);
            const int next_kt = k0 + TK < k ? panel_depth(k, k0 + TK) : 0;
            if (p % 2 == 0)
              panel_step(a_in, b_in, a_pong, b_pong, t.mt, t.nt, next_kt, a_ping, b_ping, acc, mblocks, ngroups, kt,
                         p == 0);
            else
              panel_step(a_in, b_in, a_ping, b_ping, t.mt, t.nt, next_kt, a_pong, b_pong, acc, mblocks, ngroups, kt,
                         false);
          }
          drain(acc, c_out, t, k == 0);
        }
  }

  // FIFO -> off-chip: each tile's rows as bursts of whole words.
  static void write_c(hls::stream<W>& in, W* Cm, int batch, int m, int n) {
    const int nw = n / CPW;
  w_batches:
    for (int bi = 0; bi < batch; ++bi)
    w_tile_rows:
      for (int tr = 0; tr < tiles_m(m); ++tr)
      w_tile_cols:
        for (int tc = 0; tc < tiles_n(n); ++tc) {
          const Tile t = tile(tr, tc, m, n);
        w_rows:
          for (int r = 0; r < t.mt; ++r) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = TM
            W* row = Cm + ((std::size_t)bi * m + t.i0 + r) * nw + t.j0 / CPW;
          w_words:
            for (int w = 0; w < t.nt / CPW; ++w) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = TN / CPW
#pragma HLS PIPELINE II = 1
              row[w] = in.read();
            }
          }
        }
  }

  // The whole GEMM as one dataflow region. k and n must be multiples of CPW (the
  // host pads them with zeros); the buffers are the caller's (bound per memory kind).
  static void run(const W* A, const W* B, W* Cm, int batch, int m, int k, int n, CTile acc, APanel a_ping,
                  APanel a_pong, BPanel b_ping, BPanel b_pong) {
    if (batch <= 0 || m <= 0 || n <= 0 || k < 0 || k % CPW || n % CPW) return;
#pragma HLS DATAFLOW
    hls::stream<W> a_fifo, b_fifo, c_fifo;
#pragma HLS STREAM variable = a_fifo depth = 2 * TK / CPW
#pragma HLS STREAM variable = b_fifo depth = 2 * TN / CPW
#pragma HLS STREAM variable = c_fifo depth = 2 * TN / CPW
    read_a(A, a_fifo, batch, m, k, n);
    read_b(B, b_fifo, batch, m, k, n);
    compute(a_fifo, b_fifo, c_fifo, acc, a_ping, a_pong, b_ping, b_pong, batch, m, k, n);
    write_c(c_fifo, Cm, batch, m, n);
  }
};

using CGemm64 = CGemm<float, QTN_C64_TILE_M, QTN_C64_TILE_N, QTN_C64_TILE_K, QTN_C64_PE_M, QTN_C64_PE_N,
                      QTN_C64_ACC_INTERLEAVE>;
using CGemm128 = CGemm<double, QTN_C128_TILE_M, QTN_C128_TILE_N, QTN_C128_TILE_K, QTN_C128_PE_M, QTN_C128_PE_N,
                       QTN_C128_ACC_INTERLEAVE>;

}  // namespace qtn

// The on-chip buffers of one kernel, each bound to the memory kind config.h names
// (P_ACC_IMPL, P_A_IMPL, P_B_IMPL: bram or uram, as qtn.fpga.boards counted them).
// Static, so they map to BRAM/URAM on the device and to .bss in the C simulation.
#define QTN_BUFFERS(P, G)                                                        \
  static G::CTile acc;                                                           \
  QTN_PRAGMA(HLS ARRAY_PARTITION variable = acc complete dim = 3)                \
  QTN_PRAGMA(HLS ARRAY_PARTITION variable = acc complete dim = 4)                \
  QTN_PRAGMA(HLS AGGREGATE variable = acc compact = bit)                         \
  QTN_PRAGMA(HLS BIND_STORAGE variable = acc type = ram_2p impl = P##_ACC_IMPL)  \
  static G::APanel a_ping, a_pong;                                               \
  QTN_PRAGMA(HLS ARRAY_PARTITION variable = a_ping complete dim = 3)             \
  QTN_PRAGMA(HLS ARRAY_PARTITION variable = a_pong complete dim = 3)             \
  QTN_PRAGMA(HLS AGGREGATE variable = a_ping compact = bit)                      \
  QTN_PRAGMA(HLS AGGREGATE variable = a_pong compact = bit)                      \
  QTN_PRAGMA(HLS BIND_STORAGE variable = a_ping type = ram_2p impl = P##_A_IMPL) \
  QTN_PRAGMA(HLS BIND_STORAGE variable = a_pong type = ram_2p impl = P##_A_IMPL) \
  static G::BPanel b_ping, b_pong;                                               \
  QTN_PRAGMA(HLS ARRAY_PARTITION variable = b_ping complete dim = 3)             \
  QTN_PRAGMA(HLS ARRAY_PARTITION variable = b_pong complete dim = 3)             \
  QTN_PRAGMA(HLS AGGREGATE variable = b_ping compact = bit)                      \
  QTN_PRAGMA(HLS AGGREGATE variable = b_pong compact = bit)                      \
  QTN_PRAGMA(HLS BIND_STORAGE variable = b_ping type = ram_2p impl = P##_B_IMPL) \
  QTN_PRAGMA(HLS BIND_STORAGE variable = b_pong type = ram_2p impl = P##_B_IMPL)

// 512-bit m_axi ports, one bundle each, long bursts (64 beats = 4 KiB).
#define QTN_PORTS                                                                                            \
  QTN_PRAGMA(HLS INTERFACE mode = m_axi port = A offset = slave bundle = gmem0 max_read_burst_length = 64)  \
  QTN_PRAGMA(HLS INTERFACE mode = m_axi port = B offset = slave bundle = gmem1 max_read_burst_length = 64)  \
  QTN_PRAGMA(HLS INTERFACE mode = m_axi port = C offset = slave bundle = gmem2 max_write_burst_length = 64) \
  QTN_PRAGMA(HLS INTERFACE mode = s_axilite port = batch)                                                   \
  QTN_PRAGMA(HLS INTERFACE mode = s_axilite port = m)                                                       \
  QTN_PRAGMA(HLS INTERFACE mode = s_axilite port = k)                                                       \
  QTN_PRAGMA(HLS INTERFACE mode = s_axilite port = n)                                                       \
  QTN_PRAGMA(HLS INTERFACE mode = s_axilite port = return)

extern "C" {

// complex64: k and n padded to multiples of 8 (one 512-bit word holds 8 complex64).
void qtn_cgemm_c64(const qtn::wide<float>* A, const qtn::wide<float>* B, qtn::wide<float>* C, int batch, int m,
                   int k, int n) {
  QTN_PORTS
  QTN_BUFFERS(QTN_C64, qtn::CGemm64)
  qtn::CGemm64::run(A, B, C, batch, m, k, n, acc, a_ping, a_pong, b_ping, b_pong);
}

// complex128: k and n padded to multiples of 4.
void qtn_cgemm_c128(const qtn::wide<double>* A, const qtn::wide<double>* B, qtn::wide<double>* C, int batch, int m,
                    int k, int n) {
  QTN_PORTS
  QTN_BUFFERS(QTN_C128, qtn::CGemm128)
  qtn::CGemm128::run(A, B, C, batch, m, k, n, acc, a_ping, a_pong, b_ping, b_pong);
}

}  // extern "C"
