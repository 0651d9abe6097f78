//===- Hadamard.cpp - Hadamard matrices and fast transforms ---------------===//

#include "quant/Support/Hadamard.h"

#include <cassert>
#include <cmath>

namespace quant {
namespace {

constexpr int64_t kBaseOrders[] = {12, 20, 28};

/// Legendre symbol χ(a) over the prime field GF(p).
int legendre(int64_t a, int64_t p) {
  a = ((a % p) + p) % p;
  if (a == 0)
    return 0;
  for (int64_t x = 1; x < p; ++x)
    if ((x * x) % p == a)
      return 1;
  return -1;
}

/// Paley core S of order p + 1: S = [[0, 1ᵀ], [±1, Q]] with Q the
/// Jacobsthal matrix Q_ij = χ(j − i). S is skew when p ≡ 3 (mod 4) and
/// symmetric when p ≡ 1 (mod 4); in both cases S·Sᵀ = p·I.
std::vector<int> paleyCore(int64_t p) {
  int64_t m = p + 1;
  int firstColumnSign = (p % 4 == 3) ? -1 : 1;
  std::vector<int> s(m * m, 0);
  for (int64_t j = 1; j < m; ++j) {
    s[j] = 1;
    s[j * m] = firstColumnSign;
  }
  for (int64_t i = 1; i < m; ++i)
    for (int64_t j = 1; j < m; ++j)
      s[i * m + j] = legendre(j - i, p);
  return s;
}

/// Paley I for p ≡ 3 (mod 4): H = I + S, order p + 1.
std::vector<int8_t> paleyI(int64_t p) {
  std::vector<int> s = paleyCore(p);
  int64_t m = p + 1;
  std::vector<int8_t> h(m * m);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < m; ++j)
      h[i * m + j] = static_cast<int8_t>(s[i * m + j] + (i == j ? 1 : 0));
  return h;
}

/// Paley II for p ≡ 1 (mod 4): every entry of S becomes a 2×2 block,
/// 0 → [[1, −1], [−1, −1]] and ±1 → ±[[1, 1], [1, −1]]; order 2(p + 1).
std::vector<int8_t> paleyII(int64_t p) {
  std::vector<int> s = paleyCore(p);
  int64_t m = p + 1, n = 2 * m;
  static const int zeroBlock[2][2] = {{1, -1}, {-1, -1}};
  static const int unitBlock[2][2] = {{1, 1}, {1, -1}};
  std::vector<int8_t> h(n * n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < m; ++j)
      for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 2; ++b) {
          int v = s[i * m + j] == 0 ? zeroBlock[a][b]
                                    : s[i * m + j] * unitBlock[a][b];
          h[(2 * i + a) * n + 2 * j + b] = static_cast<int8_t>(v);
        }
  return h;
}

const std::vector<int8_t> &baseMatrix(int64_t b) {
  static const std::vector<int8_t> h12 = paleyI(11);
  static const std::vector<int8_t> h20 = paleyI(19);
  static const std::vector<int8_t> h28 = paleyII(13);
  switch (b) {
  case 12:
    return h12;
  case 20:
    return h20;
  default:
    assert(b == 28 && "unsupported Hadamard base order");
    return h28;
  }
}

bool isPowerOfTwo(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

template <typename T> void transform(T *x, int64_t n) {
  int64_t b = hadamardBaseOrder(n);
  assert(b != 0 && "unsupported Hadamard size");
  int64_t blocks = n / b;
  // x viewed as X[blocks][b]: X·(H_blocks ⊗ H_b) = H_blocksᵀ·(X·H_b), and
  // the Sylvester factor is symmetric.
  if (b > 1) {
    const std::vector<int8_t> &hb = baseMatrix(b);
    std::vector<T> row(b);
    for (int64_t r = 0; r < blocks; ++r) {
      T *xr = x + r * b;
      for (int64_t j = 0; j < b; ++j) {
        T acc = 0;
        for (int64_t i = 0; i < b; ++i)
          acc += xr[i] * static_cast<T>(hb[i * b + j]);
        row[j] = acc;
      }
      for (int64_t j = 0; j < b; ++j)
        xr[j] = row[j];
    }
  }
  for (int64_t h = 1; h < blocks; h *= 2)
    for (int64_t start = 0; start < blocks; start += 2 * h)
      for (int64_t r = start; r < start + h; ++r) {
        T *lo = x + r * b, *hi = x + (r + h) * b;
        for (int64_t j = 0; j < b; ++j) {
          T u = lo[j], v = hi[j];
          lo[j] = u + v;
          hi[j] = u - v;
        }
      }
  T norm = static_cast<T>(1.0 / std::sqrt(static_cast<double>(n)));
  for (int64_t i = 0; i < n; ++i)
    x[i] *= norm;
}

} // namespace

int64_t hadamardBaseOrder(int64_t n) {
  if (isPowerOfTwo(n))
    return 1;
  for (int64_t b : kBaseOrders)
    if (n % b == 0 && isPowerOfTwo(n / b))
      return b;
  return 0;
}

std::vector<int8_t> hadamardMatrix(int64_t n) {
  int64_t b = hadamardBaseOrder(n);
  assert(b != 0 && "unsupported Hadamard size");
  std::vector<int8_t> h(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int64_t i1 = i / b, i2 = i % b, j1 = j / b, j2 = j % b;
      int sylvester = (__builtin_popcountll(i1 & j1) & 1) ? -1 : 1;
      int base = b == 1 ? 1 : baseMatrix(b)[i2 * b + j2];
      h[i * n + j] = static_cast<int8_t>(sylvester * base);
    }
  return h;
}

void fastHadamardTransform(float *x, int64_t n) { transform(x, n); }
void fastHadamardTransform(double *x, int64_t n) { transform(x, n); }

} // namespace quant
