//===- Npz.h - NumPy .npz archives and .npy directories ---------*- C++ -*-===//
//
// An .npz file is a zip archive of .npy members, as np.savez (stored) and
// np.savez_compressed (deflate) write it. The reader walks the central
// directory, checks every offset and size against the buffer, every CRC-32
// and every member's .npy contents, and rejects encryption, other
// compression methods, multi-disk archives, duplicate or overlapping
// members and decompression bombs, each with a one-line message naming the
// member; never a crash.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_SUPPORT_NPZ_H
#define QUANT_SUPPORT_NPZ_H

#include "quant/Support/Npy.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace quant {

struct NpzEntry {
  std::string name; // the member's name without its ".npy" suffix
  NpyArray array;
};

/// Upper bound on the sum of the members' uncompressed sizes: an archive
/// declaring more is rejected before anything is inflated.
constexpr uint64_t kMaxNpzUncompressedBytes = uint64_t(16) << 30;

/// Parses an in-memory .npz image into its members, in central-directory
/// order (zip64 included); on failure returns nullopt and sets `error` to a
/// one-line reason.
std::optional<std::vector<NpzEntry>> parseNpz(const uint8_t *data, size_t size,
                                              std::string &error);
std::optional<std::vector<NpzEntry>> readNpzFile(const std::string &path,
                                                 std::string &error);

/// Reads every `*.npy` file of a directory (not recursively), sorted by
/// name; an entry's name is the file's stem. An empty directory gives an
/// empty vector.
std::optional<std::vector<NpzEntry>> readNpyDirectory(const std::string &path,
                                                      std::string &error);

} // namespace quant

#endif // QUANT_SUPPORT_NPZ_H
