// C-simulation test bench for cgemm.cpp: compares both entry points with a naive
// triple loop at sizes around the tile edges of config.h. Exits non-zero on any
// mismatch.
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

template <typename T>
double check(void (*kernel)(const T*, const T*, T*, int, int, int, int), const Case& c, std::mt19937& rng,
             double tol) {
  std::uniform_real_distribution<T> dist(T(-1), T(1));
  const std::size_t na = 2 * (std::size_t)c.batch * c.m * c.k;
  const std::size_t nb = 2 * (std::size_t)c.batch * c.k * c.n;
  const std::size_t nc = 2 * (std::size_t)c.batch * c.m * c.n;
  std::vector<T> A(na), B(nb), C(nc, T(12345));  // garbage C: the kernel must overwrite it
  for (auto& x : A) x = dist(rng);
  for (auto& x : B) x = dist(rng);
  kernel(A.data(), B.data(), C.data(), c.batch, c.m, c.k, c.n);
  double worst = 0.0;
  for (int b = 0; b < c.batch; ++b)
    for (int i = 0; i < c.m; ++i)
      for (int j = 0; j < c.n; ++j) {
        long double re = 0, im = 0;  // reference in extended precision
        for (int p = 0; p < c.k; ++p) {
          const std::size_t ia = 2 * (((std::size_t)b * c.m + i) * c.k + p);
          const std::size_t ib = 2 * (((std::size_t)b * c.k + p) * c.n + j);
          re += (long double)A[ia] * B[ib] - (long double)A[ia + 1] * B[ib + 1];
          im += (long double)A[ia] * B[ib + 1] + (long double)A[ia + 1] * B[ib];
        }
        const std::size_t ic = 2 * (((std::size_t)b * c.m + i) * c.n + j);
        const double err = std::fmax(std::fabs((double)(C[ic] - re)), std::fabs((double)(C[ic + 1] - im)));
        worst = std::fmax(worst, err);
      }
  // |A|, |B| <= 1 per part: a k-term sum rounds to about k * eps.
  return worst / (tol * (c.k + 1));
}

template <typename T>
int run_cases(const char* name, void (*kernel)(const T*, const T*, T*, int, int, int, int), int tm, int tn, int tk,
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
