// C-simulation test bench for cgemm.cpp: compares both entry points with a naive
// triple loop at sizes around the tile edges of config.h, operands padded to whole
// 512-bit words as the host pads them. Exits non-zero on any mismatch.
//
//   g++ -O2 -std=c++17 -I<dir with config.h> test_cgemm.cpp -o test_cgemm && ./test_cgemm
//
// (cgemm.cpp includes "config.h" from its own directory first, so build from a copy
// next to the config.h under test; tests/test_backend_hls.py does exactly that.)

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "cgemm.cpp"

namespace {

struct Case {
  int batch, m, k, n;
  const char* what;
};

// Row-major complex matrices padded to whole 512-bit words along their rows, as the
// host hands them to the kernel.
template <typename T>
using Words = std::vector<qtn::wide<T>>;
template <typename T>
using Kernel = void (*)(const qtn::wide<T>*, const qtn::wide<T>*, qtn::wide<T>*, int, int, int, int);

template <typename T>
int padded(int x) {
  const int w = qtn::wide<T>::CPW;
  return (x + w - 1) / w * w;
}
template <typename T>
T& at(Words<T>& a, std::size_t row, int cols_padded, int col, int part) {
  const int w = qtn::wide<T>::CPW;
  return a[row * (cols_padded / w) + col / w].v[2 * (col % w) + part];
}

template <typename T>
double check(Kernel<T> kernel, const Case& c, std::mt19937& rng, double tol) {
  std::uniform_real_distribution<T> dist(T(-1), T(1));
  const int kp = padded<T>(c.k), np = padded<T>(c.n), w = qtn::wide<T>::CPW;
  // zero padding; garbage C: the kernel must overwrite every element it owns
  Words<T> A((std::size_t)c.batch * c.m * kp / w), B((std::size_t)c.batch * kp * np / w);
  Words<T> C((std::size_t)c.batch * c.m * np / w);
  for (auto& word : A) for (auto& x : word.v) x = T(0);
  for (auto& word : B) for (auto& x : word.v) x = T(0);
  for (auto& word : C) for (auto& x : word.v) x = T(12345);
  for (int b = 0; b < c.batch; ++b) {
    for (int i = 0; i < c.m; ++i)
      for (int p = 0; p < c.k; ++p)
        for (int part = 0; part < 2; ++part) at(A, (std::size_t)b * c.m + i, kp, p, part) = dist(rng);
    for (int p = 0; p < c.k; ++p)
      for (int j = 0; j < c.n; ++j)
        for (int part = 0; part < 2; ++part) at(B, (std::size_t)b * kp + p, np, j, part) = dist(rng);
  }
  kernel(A.data(), B.data(), C.data(), c.batch, c.m, kp, np);
  double worst = 0.0;
  for (int b = 0; b < c.batch; ++b)
    for (int i = 0; i < c.m; ++i)
      for (int j = 0; j < c.n; ++j) {
        long double re = 0, im = 0;  // reference in extended precision
        for (int p = 0; p < c.k; ++p) {
          const long double ar = at(A, (std::size_t)b * c.m + i, kp, p, 0), ai = at(A, (std::size_t)b * c.m + i, kp, p, 1);
          const long double br = at(B, (std::size_t)b * kp + p, np, j, 0), bi = at(B, (std::size_t)b * kp + p, np, j, 1);
          re += ar * br - ai * bi;
          im += ar * bi + ai * br;
        }
        const double err = std::fmax(std::fabs((double)(at(C, (std::size_t)b * c.m + i, np, j, 0) - re)),
                                     std::fabs((double)(at(C, (std::size_t)b * c.m + i, np, j, 1) - im)));
        worst = std::fmax(worst, err);
      }
  // |A|, |B| <= 1 per part: a k-term sum rounds to about k * eps.
  return worst / (tol * (c.k + 1));
}

template <typename T>
int run_cases(const char* name, Kernel<T> kernel, int tm, int tn, int tk,
              int pm, int pn, int ilv, double tol) {
  const Case cases[] = {
      {1, 1, 1, 1, "1x1x1"},
      {1, 3, 0, 4, "k=0 (C must be zeroed)"},
      {1, tm - 1, 3, 5, "m = tile-1"},
      {1, tm + 1, 3, 5, "m = tile+1"},
      {1, 2 * tm + 1, 2, 3, "m = 2*tile+1"},
      {1, 5, tk - 1, 7, "k = tile-1"},
      {1, 5, tk + 1, 7, "k = tile+1"},
      {1, 3, 2 * tk + 1, 4, "k = 2*tile+1"},
      {1, 5, 3, tn - 1, "n = tile-1"},
      {1, 5, 3, tn + 1, "n = tile+1"},
      {1, 3, 2, 2 * tn + 1, "n = 2*tile+1"},
      {1, tm + 1, 1, tn + 1, "k=1, m and n = tile+1"},
      {1, pm + 1, tk + 1, pn * ilv + 1, "PE edges + 1"},
      {3, pm + 3, tk + 1, pn + 5, "batch=3"},
      {2, 7, 2 * tk + 3, 9, "batch=2, long k"},
  };
  std::mt19937 rng(12345);
  int failures = 0;
  for (const Case& c : cases) {
    const double score = check<T>(kernel, c, rng, tol);
    const bool ok = score <= 1.0;
    std::printf("%-5s %-26s batch=%d m=%d k=%d n=%d  err/tol=%.3g  %s\n", name, c.what, c.batch, c.m, c.k, c.n,
                score, ok ? "ok" : "MISMATCH");
    failures += ok ? 0 : 1;
  }
  return failures;
}

}  // namespace

int main() {
  int failures = 0;
  failures += run_cases<float>("c64", qtn_cgemm_c64, QTN_C64_TILE_M, QTN_C64_TILE_N, QTN_C64_TILE_K, QTN_C64_PE_M,
                               QTN_C64_PE_N, QTN_C64_ACC_INTERLEAVE, 4e-7);
  failures += run_cases<double>("c128", qtn_cgemm_c128, QTN_C128_TILE_M, QTN_C128_TILE_N, QTN_C128_TILE_K,
                                QTN_C128_PE_M, QTN_C128_PE_N, QTN_C128_ACC_INTERLEAVE, 8e-16);
  if (failures) {
    std::printf("FAILED: %d case(s) (board %s)\n", failures, QTN_BOARD_NAME);
    return 1;
  }
  std::printf("all cases passed (board %s)\n", QTN_BOARD_NAME);
  return 0;
}
