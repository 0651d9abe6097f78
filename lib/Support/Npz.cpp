//===- Npz.cpp - NumPy .npz archives and directories of .npy files --------===//
//
// The zip layout (PKWARE APPNOTE 6.3): local headers with member data, then
// the central directory, then the end-of-central-directory record (EOCD),
// preceded by a zip64 EOCD record and locator when counts or offsets
// overflow 16/32 bits. Sizes are taken from the central directory: numpy
// writes local headers with zip64 extras and may use data descriptors, so
// the local header only tells where the data starts.
//
//===----------------------------------------------------------------------===//

#include "quant/Support/Npz.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string_view>

namespace quant {
namespace {

constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr uint32_t kEndSignature = 0x06054b50;
constexpr uint32_t kZip64EndSignature = 0x06064b50;
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr uint64_t kLocalHeaderSize = 30;
constexpr uint64_t kCentralHeaderSize = 46;
constexpr uint64_t kEndSize = 22;
constexpr uint64_t kZip64EndSize = 56;
constexpr uint64_t kZip64LocatorSize = 20;
constexpr uint64_t kMaxCommentSize = 0xffff;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint32_t kZip64Marker32 = 0xffffffff;
constexpr uint16_t kFlagEncrypted = 1 << 0;
constexpr uint16_t kFlagStrongEncryption = 1 << 6;
constexpr uint16_t kMethodStored = 0;
constexpr uint16_t kMethodDeflate = 8;
// Deflate codes at most 258 bytes (one longest match) in 2 bits, so a
// member that declares more than this many times its compressed size lies.
constexpr uint64_t kMaxDeflateRatio = 1032;

uint64_t readLittleEndian(const uint8_t *p, int bytes) {
  uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i)
    value = (value << 8) | p[i];
  return value;
}

/// Bounds-checked little-endian view of the archive image.
class ByteView {
public:
  ByteView(const uint8_t *data, uint64_t size) : data(data), size(size) {}

  bool contains(uint64_t offset, uint64_t length) const {
    return offset <= size && length <= size - offset;
  }
  // Callers check `contains` first.
  uint16_t u16(uint64_t offset) const {
    return uint16_t(readLittleEndian(data + offset, 2));
  }
  uint32_t u32(uint64_t offset) const {
    return uint32_t(readLittleEndian(data + offset, 4));
  }
  uint64_t u64(uint64_t offset) const {
    return readLittleEndian(data + offset, 8);
  }
  std::string_view text(uint64_t offset, uint64_t length) const {
    return {reinterpret_cast<const char *>(data + offset), size_t(length)};
  }
  const uint8_t *at(uint64_t offset) const { return data + offset; }

  const uint8_t *data;
  uint64_t size;
};

/// A member as the central directory describes it.
struct Member {
  std::string storedName; // with its ".npy" suffix, if any
  uint16_t flags = 0;
  uint16_t method = 0;
  uint32_t crc = 0;
  uint64_t compressedSize = 0;
  uint64_t uncompressedSize = 0;
  uint64_t localHeaderOffset = 0;
  uint64_t dataOffset = 0; // from the local header
};

/// Where the central directory lies, from the (zip64) EOCD record.
struct Directory {
  uint64_t entries = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  // The first byte after the space the directory may occupy.
  uint64_t limit = 0;
};

std::nullopt_t fail(std::string &error, std::string message) {
  error = std::move(message);
  return std::nullopt;
}

// Quotes an untrusted member name for a one-line message.
std::string quote(std::string_view name) {
  constexpr size_t kMaxQuoted = 80;
  std::string quoted = "'";
  for (size_t i = 0; i < name.size() && i < kMaxQuoted; ++i) {
    auto byte = static_cast<unsigned char>(name[i]);
    if (byte >= 0x20 && byte < 0x7f && byte != '\'' && byte != '\\') {
      quoted += char(byte);
    } else {
      static const char kHex[] = "0123456789abcdef";
      quoted += {'\\', 'x', kHex[byte >> 4], kHex[byte & 15]};
    }
  }
  return quoted + (name.size() > kMaxQuoted ? "...'" : "'");
}

std::string memberPrefix(const Member &member) {
  return "member " + quote(member.storedName) + ": ";
}

std::string entryName(const std::string &storedName) {
  constexpr std::string_view kSuffix = ".npy";
  if (storedName.size() >= kSuffix.size() &&
      std::string_view(storedName).substr(storedName.size() - kSuffix.size()) ==
          kSuffix)
    return storedName.substr(0, storedName.size() - kSuffix.size());
  return storedName;
}

// Finds the EOCD record: the last signature whose comment ends the file.
std::optional<uint64_t> findEnd(const ByteView &bytes) {
  if (bytes.size < kEndSize)
    return std::nullopt;
  uint64_t lowest =
      bytes.size - kEndSize - std::min(bytes.size - kEndSize, kMaxCommentSize);
  for (uint64_t pos = bytes.size - kEndSize + 1; pos-- > lowest;)
    if (bytes.u32(pos) == kEndSignature &&
        pos + kEndSize + bytes.u16(pos + 20) == bytes.size)
      return pos;
  return std::nullopt;
}

std::optional<Directory> readDirectoryLocation(const ByteView &bytes,
                                               std::string &error) {
  std::optional<uint64_t> end = findEnd(bytes);
  if (!end) {
    static const uint8_t kNpyMagic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    if (bytes.contains(0, sizeof(kNpyMagic)) &&
        std::memcmp(bytes.data, kNpyMagic, sizeof(kNpyMagic)) == 0)
      return fail(error, "a .npy file, not an .npz archive");
    return fail(error,
                "not an .npz archive (no zip end-of-central-directory record)");
  }
  uint64_t disk = bytes.u16(*end + 4), directoryDisk = bytes.u16(*end + 6);
  uint64_t diskEntries = bytes.u16(*end + 8);
  Directory directory;
  directory.entries = bytes.u16(*end + 10);
  directory.size = bytes.u32(*end + 12);
  directory.offset = bytes.u32(*end + 16);
  directory.limit = *end;

  // numpy's zipfile writes a zip64 EOCD only when a count or an offset
  // overflows; its locator sits right before the EOCD.
  if (*end >= kZip64LocatorSize &&
      bytes.u32(*end - kZip64LocatorSize) == kZip64LocatorSignature) {
    uint64_t locator = *end - kZip64LocatorSize;
    uint64_t record = bytes.u64(locator + 8);
    if (bytes.u32(locator + 4) != 0 || bytes.u32(locator + 16) != 1)
      return fail(error, "multi-disk zip archives are not supported");
    if (record > locator || locator - record < kZip64EndSize ||
        bytes.u32(record) != kZip64EndSignature)
      return fail(error, "zip64 end-of-central-directory record at offset " +
                             std::to_string(record) +
                             " is missing or truncated");
    disk = bytes.u32(record + 16);
    directoryDisk = bytes.u32(record + 20);
    diskEntries = bytes.u64(record + 24);
    directory.entries = bytes.u64(record + 32);
    directory.size = bytes.u64(record + 40);
    directory.offset = bytes.u64(record + 48);
    directory.limit = record;
  }
  if (disk != 0 || directoryDisk != 0 || diskEntries != directory.entries)
    return fail(error, "multi-disk zip archives are not supported");
  if (directory.offset > directory.limit ||
      directory.size > directory.limit - directory.offset)
    return fail(error, "central directory (offset " +
                           std::to_string(directory.offset) + ", " +
                           std::to_string(directory.size) +
                           " bytes) lies outside the archive");
  if (directory.entries > directory.size / kCentralHeaderSize)
    return fail(error, "central directory of " +
                           std::to_string(directory.size) +
                           " bytes cannot hold " +
                           std::to_string(directory.entries) + " entries");
  return directory;
}

// Replaces the 32-bit sizes and offset that hold the zip64 marker by the
// 64-bit values of the zip64 extra field, which lists just those, in order.
bool applyZip64Extra(const ByteView &bytes, uint64_t extra, uint64_t length,
                     Member &member, std::string &error) {
  uint64_t end = extra + length;
  while (extra < end) {
    if (end - extra < 4) {
      error = memberPrefix(member) + "truncated extra field";
      return false;
    }
    uint16_t id = bytes.u16(extra), fieldSize = bytes.u16(extra + 2);
    uint64_t field = extra + 4;
    if (fieldSize > end - field) {
      error = memberPrefix(member) + "truncated extra field";
      return false;
    }
    extra = field + fieldSize;
    if (id != kZip64ExtraId)
      continue;
    for (uint64_t *value : {&member.uncompressedSize, &member.compressedSize,
                            &member.localHeaderOffset}) {
      if (*value != kZip64Marker32)
        continue;
      if (fieldSize < 8) {
        error = memberPrefix(member) + "truncated zip64 extra field";
        return false;
      }
      *value = bytes.u64(field);
      field += 8;
      fieldSize -= 8;
    }
  }
  return true;
}

std::optional<std::vector<Member>>
readCentralDirectory(const ByteView &bytes, const Directory &directory,
                     std::string &error) {
  std::vector<Member> members;
  members.reserve(directory.entries);
  uint64_t pos = directory.offset;
  uint64_t end = directory.offset + directory.size;
  for (uint64_t index = 0; index < directory.entries; ++index) {
    std::string where = "central directory entry " + std::to_string(index);
    if (end - pos < kCentralHeaderSize ||
        bytes.u32(pos) != kCentralHeaderSignature)
      return fail(error, where + " is truncated or has a bad signature");
    uint64_t nameLength = bytes.u16(pos + 28);
    uint64_t extraLength = bytes.u16(pos + 30);
    uint64_t commentLength = bytes.u16(pos + 32);
    uint64_t name = pos + kCentralHeaderSize;
    if (nameLength + extraLength + commentLength > end - name)
      return fail(error, where + " overruns the central directory");
    Member member;
    member.storedName = std::string(bytes.text(name, nameLength));
    member.flags = bytes.u16(pos + 8);
    member.method = bytes.u16(pos + 10);
    member.crc = bytes.u32(pos + 16);
    member.compressedSize = bytes.u32(pos + 20);
    member.uncompressedSize = bytes.u32(pos + 24);
    member.localHeaderOffset = bytes.u32(pos + 42);
    if (bytes.u16(pos + 34) != 0)
      return fail(error, memberPrefix(member) +
                             "lies on another disk (multi-disk archives are "
                             "not supported)");
    if (!applyZip64Extra(bytes, name + nameLength, extraLength, member, error))
      return std::nullopt;
    members.push_back(std::move(member));
    pos = name + nameLength + extraLength + commentLength;
  }
  if (pos != end)
    return fail(error, "central directory holds " + std::to_string(end - pos) +
                           " bytes after its " +
                           std::to_string(directory.entries) + " entries");
  return members;
}

// Checks what can be checked without inflating, and finds the data.
bool checkMember(const ByteView &bytes, const Directory &directory,
                 Member &member, std::string &error) {
  std::string prefix = memberPrefix(member);
  if (entryName(member.storedName).empty()) {
    error = prefix + "empty array name";
    return false;
  }
  if (member.flags & (kFlagEncrypted | kFlagStrongEncryption)) {
    error = prefix + "encrypted members are not supported";
    return false;
  }
  if (member.method != kMethodStored && member.method != kMethodDeflate) {
    error = prefix + "unsupported compression method " +
            std::to_string(member.method) + " (expected stored or deflate)";
    return false;
  }
  std::string sizes = "declares " + std::to_string(member.uncompressedSize) +
                      " bytes from " + std::to_string(member.compressedSize) +
                      " compressed bytes";
  if (member.method == kMethodStored &&
      member.compressedSize != member.uncompressedSize) {
    error = prefix + "stored member " + sizes;
    return false;
  }
  if (member.uncompressedSize > kMaxNpzUncompressedBytes) {
    error = prefix + "declares " + std::to_string(member.uncompressedSize) +
            " uncompressed bytes, more than the limit of " +
            std::to_string(kMaxNpzUncompressedBytes);
    return false;
  }
  if (member.uncompressedSize / kMaxDeflateRatio > member.compressedSize) {
    error = prefix + sizes + ", more than deflate can encode";
    return false;
  }

  uint64_t header = member.localHeaderOffset;
  if (!bytes.contains(header, kLocalHeaderSize) ||
      header + kLocalHeaderSize > directory.offset ||
      bytes.u32(header) != kLocalHeaderSignature) {
    error = prefix + "no local header at offset " + std::to_string(header);
    return false;
  }
  uint64_t nameLength = bytes.u16(header + 26);
  uint64_t extraLength = bytes.u16(header + 28);
  uint64_t name = header + kLocalHeaderSize;
  member.dataOffset = name + nameLength + extraLength;
  if (member.dataOffset > directory.offset ||
      member.compressedSize > directory.offset - member.dataOffset) {
    error = prefix + "data (" + std::to_string(member.compressedSize) +
            " bytes at offset " + std::to_string(member.dataOffset) +
            ") overruns the member area";
    return false;
  }
  if (bytes.text(name, nameLength) != member.storedName) {
    error =
        prefix + "local header names " + quote(bytes.text(name, nameLength));
    return false;
  }
  if (bytes.u16(header + 8) != member.method) {
    error = prefix + "local and central headers disagree on the method";
    return false;
  }
  return true;
}

// Rejects duplicate names, members sharing bytes (the overlapping-file zip
// bomb) and archives whose members together are too large.
bool checkMemberSet(const std::vector<Member> &members, std::string &error) {
  std::set<std::string> names;
  uint64_t totalSize = 0;
  std::vector<const Member *> byOffset;
  for (const Member &member : members) {
    if (!names.insert(entryName(member.storedName)).second) {
      error = memberPrefix(member) + "duplicate array name " +
              quote(entryName(member.storedName));
      return false;
    }
    // Each size is at most the limit, so the sum cannot wrap.
    totalSize += member.uncompressedSize;
    if (totalSize > kMaxNpzUncompressedBytes) {
      error = "members declare more than the limit of " +
              std::to_string(kMaxNpzUncompressedBytes) + " uncompressed bytes";
      return false;
    }
    byOffset.push_back(&member);
  }
  std::sort(byOffset.begin(), byOffset.end(),
            [](const Member *a, const Member *b) {
              return a->localHeaderOffset < b->localHeaderOffset;
            });
  for (size_t i = 1; i < byOffset.size(); ++i) {
    const Member &previous = *byOffset[i - 1], &next = *byOffset[i];
    if (previous.dataOffset + previous.compressedSize >
        next.localHeaderOffset) {
      error = "members " + quote(previous.storedName) + " and " +
              quote(next.storedName) + " overlap";
      return false;
    }
  }
  return true;
}

// Inflates exactly `member.uncompressedSize` bytes from a raw deflate
// stream of exactly `member.compressedSize` bytes.
bool inflateMember(const ByteView &bytes, const Member &member,
                   std::vector<uint8_t> &out, std::string &error) {
  std::string prefix = memberPrefix(member);
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) {
    error = prefix + "cannot initialise zlib";
    return false;
  }
  struct InflateEnd {
    z_stream *stream;
    ~InflateEnd() { inflateEnd(stream); }
  } cleanup{&stream};

  out.resize(member.uncompressedSize);
  const uint8_t *in = bytes.at(member.dataOffset);
  uint64_t inLeft = member.compressedSize, outLeft = out.size();
  stream.next_in = const_cast<Bytef *>(in);
  stream.next_out = out.data();
  while (true) {
    // zlib counts in 32 bits; feed the buffers in pieces.
    stream.avail_in = uInt(std::min<uint64_t>(inLeft, UINT_MAX));
    stream.avail_out = uInt(std::min<uint64_t>(outLeft, UINT_MAX));
    uInt availIn = stream.avail_in, availOut = stream.avail_out;
    int status = inflate(&stream, Z_NO_FLUSH);
    inLeft -= availIn - stream.avail_in;
    outLeft -= availOut - stream.avail_out;
    if (status == Z_STREAM_END)
      break;
    if (status == Z_OK)
      continue;
    if (status == Z_BUF_ERROR && inLeft == 0)
      error = prefix + "truncated deflate stream";
    else if (status == Z_BUF_ERROR)
      error = prefix + "inflates to more than the declared " +
              std::to_string(member.uncompressedSize) + " bytes";
    else
      error =
          prefix + "corrupt deflate stream (" +
          (stream.msg ? stream.msg : "zlib error " + std::to_string(status)) +
          ")";
    return false;
  }
  if (outLeft != 0) {
    error = prefix + "inflates to " + std::to_string(out.size() - outLeft) +
            " bytes, the central directory declares " +
            std::to_string(member.uncompressedSize);
    return false;
  }
  if (inLeft != 0) {
    error = prefix + std::to_string(inLeft) +
            " bytes follow the end of the deflate stream";
    return false;
  }
  return true;
}

std::optional<NpzEntry>
extractMember(const ByteView &bytes, const Member &member, std::string &error) {
  std::vector<uint8_t> inflated;
  const uint8_t *contents = bytes.at(member.dataOffset);
  if (member.method == kMethodDeflate) {
    if (!inflateMember(bytes, member, inflated, error))
      return std::nullopt;
    contents = inflated.data();
  }
  uint32_t crc = uint32_t(
      crc32_z(crc32_z(0, nullptr, 0), contents, member.uncompressedSize));
  if (crc != member.crc) {
    char message[64];
    std::snprintf(message, sizeof(message),
                  "CRC-32 mismatch (stored %08x, computed %08x)", member.crc,
                  crc);
    return fail(error, memberPrefix(member) + message);
  }
  std::optional<NpyArray> array =
      parseNpy(contents, member.uncompressedSize, error);
  if (!array)
    return fail(error, memberPrefix(member) + error);
  return NpzEntry{entryName(member.storedName), std::move(*array)};
}

std::optional<std::vector<uint8_t>> readWholeFile(const std::string &path,
                                                  std::string &error) {
  std::error_code code;
  if (std::filesystem::is_directory(path, code))
    return fail(error, "'" + path + "' is a directory");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    return fail(error, "cannot open '" + path + "'");
  std::streamoff length = in.tellg();
  std::vector<uint8_t> contents(length > 0 ? size_t(length) : 0);
  in.seekg(0);
  if (length < 0 ||
      !in.read(reinterpret_cast<char *>(contents.data()), contents.size()))
    return fail(error, "cannot read '" + path + "'");
  return contents;
}

} // namespace

std::optional<std::vector<NpzEntry>> parseNpz(const uint8_t *data, size_t size,
                                              std::string &error) {
  ByteView bytes(data, size);
  std::optional<Directory> directory = readDirectoryLocation(bytes, error);
  if (!directory)
    return std::nullopt;
  std::optional<std::vector<Member>> members =
      readCentralDirectory(bytes, *directory, error);
  if (!members)
    return std::nullopt;
  for (Member &member : *members)
    if (!checkMember(bytes, *directory, member, error))
      return std::nullopt;
  if (!checkMemberSet(*members, error))
    return std::nullopt;
  std::vector<NpzEntry> entries;
  for (const Member &member : *members) {
    std::optional<NpzEntry> entry = extractMember(bytes, member, error);
    if (!entry)
      return std::nullopt;
    entries.push_back(std::move(*entry));
  }
  return entries;
}

std::optional<std::vector<NpzEntry>> readNpzFile(const std::string &path,
                                                 std::string &error) {
  std::optional<std::vector<uint8_t>> contents = readWholeFile(path, error);
  if (!contents)
    return std::nullopt;
  std::optional<std::vector<NpzEntry>> entries =
      parseNpz(contents->data(), contents->size(), error);
  if (!entries)
    error = path + ": " + error;
  return entries;
}

std::optional<std::vector<NpzEntry>> readNpyDirectory(const std::string &path,
                                                      std::string &error) {
  namespace fs = std::filesystem;
  std::error_code code;
  fs::directory_iterator it(path, code), end;
  if (code)
    return fail(error,
                "cannot read directory '" + path + "': " + code.message());
  std::vector<fs::path> files;
  for (; it != end; it.increment(code)) {
    std::error_code typeCode;
    if (it->path().extension() == ".npy" && it->is_regular_file(typeCode))
      files.push_back(it->path());
  }
  if (code)
    return fail(error,
                "cannot read directory '" + path + "': " + code.message());
  std::sort(files.begin(), files.end(),
            [](const fs::path &a, const fs::path &b) {
              return a.stem().string() < b.stem().string();
            });
  std::vector<NpzEntry> entries;
  for (const fs::path &file : files) {
    std::optional<NpyArray> array = readNpyFile(file.string(), error);
    if (!array)
      return std::nullopt;
    entries.push_back({file.stem().string(), std::move(*array)});
  }
  return entries;
}

} // namespace quant
