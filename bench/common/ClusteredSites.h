//===- ClusteredSites.h - synthetic BEV pillar sites ------------*- C++ -*-===//
//
// The active pillar sites of the pillar convolution benchmarks (CPU and
// GPU), clustered like objects on a ground plane.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_BENCH_COMMON_CLUSTEREDSITES_H
#define QUANT_BENCH_COMMON_CLUSTEREDSITES_H

#include <cstdint>
#include <random>
#include <vector>

/// Distinct (0, y, x) sites covering `occupancy` of the grid: rectangles of
/// 2–12 × 4–24 cells (pedestrians to cars), 70 % filled, plus 20 % of the
/// sites scattered (ground returns).
inline std::vector<int32_t> clusteredSites(int64_t height, int64_t width,
                                           double occupancy,
                                           std::mt19937_64 &rng) {
  int64_t target = static_cast<int64_t>(occupancy * height * width);
  std::vector<uint8_t> taken(height * width, 0);
  std::vector<int32_t> coords;
  auto add = [&](int64_t y, int64_t x) {
    if (y < 0 || y >= height || x < 0 || x >= width || taken[y * width + x] ||
        static_cast<int64_t>(coords.size()) / 3 >= target)
      return;
    taken[y * width + x] = 1;
    coords.insert(coords.end(), {0, int32_t(y), int32_t(x)});
  };
  std::uniform_int_distribution<int64_t> ry(0, height - 1), rx(0, width - 1);
  std::uniform_real_distribution<double> unit(0, 1);
  while (static_cast<int64_t>(coords.size()) / 3 < target * 8 / 10) {
    int64_t y0 = ry(rng), x0 = rx(rng);
    int64_t h = 2 + rng() % 11, w = 4 + rng() % 21;
    for (int64_t y = y0; y < y0 + h; ++y)
      for (int64_t x = x0; x < x0 + w; ++x)
        if (unit(rng) < 0.7)
          add(y, x);
  }
  while (static_cast<int64_t>(coords.size()) / 3 < target)
    add(ry(rng), rx(rng));
  return coords;
}

#endif // QUANT_BENCH_COMMON_CLUSTEREDSITES_H
