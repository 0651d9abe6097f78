//===- NpzTest.cpp - .npz archives and directories of .npy files ----------===//

#include "quant/Support/Npz.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace quant;

namespace {

// np.savez(f, x=np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1,
//          labels=np.array([3, 1, 4], dtype=np.int64)), numpy 1.24.
const uint8_t kSavez[] = {
    0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x21, 0x00, 0x4b, 0x4a, 0x68, 0x01, 0x98, 0x00, 0x00, 0x00, 0x98, 0x00,
    0x00, 0x00, 0x05, 0x00, 0x14, 0x00, 0x78, 0x2e, 0x6e, 0x70, 0x79, 0x01,
    0x00, 0x10, 0x00, 0x98, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x98,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x93, 0x4e, 0x55, 0x4d, 0x50,
    0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63, 0x72,
    0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66,
    0x6f, 0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72,
    0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73, 0x65, 0x2c, 0x20, 0x27, 0x73,
    0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x32, 0x2c, 0x20, 0x33,
    0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x0a, 0x00, 0x00, 0x80, 0xbf, 0x00, 0x00, 0x00, 0xbf, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x80, 0x3f, 0x00,
    0x00, 0xc0, 0x3f, 0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x21, 0x00, 0x58, 0xe0, 0x63, 0x74, 0x98, 0x00, 0x00,
    0x00, 0x98, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x14, 0x00, 0x6c, 0x61, 0x62,
    0x65, 0x6c, 0x73, 0x2e, 0x6e, 0x70, 0x79, 0x01, 0x00, 0x10, 0x00, 0x98,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x98, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76,
    0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63, 0x72, 0x27, 0x3a, 0x20, 0x27,
    0x3c, 0x69, 0x38, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74, 0x72,
    0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46,
    0x61, 0x6c, 0x73, 0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65,
    0x27, 0x3a, 0x20, 0x28, 0x33, 0x2c, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a, 0x03,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x50,
    0x4b, 0x01, 0x02, 0x14, 0x03, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x21, 0x00, 0x4b, 0x4a, 0x68, 0x01, 0x98, 0x00, 0x00, 0x00, 0x98,
    0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x78, 0x2e, 0x6e,
    0x70, 0x79, 0x50, 0x4b, 0x01, 0x02, 0x14, 0x03, 0x14, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x21, 0x00, 0x58, 0xe0, 0x63, 0x74, 0x98, 0x00,
    0x00, 0x00, 0x98, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0xcf, 0x00, 0x00, 0x00,
    0x6c, 0x61, 0x62, 0x65, 0x6c, 0x73, 0x2e, 0x6e, 0x70, 0x79, 0x50, 0x4b,
    0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x02, 0x00, 0x6b, 0x00,
    0x00, 0x00, 0xa3, 0x01, 0x00, 0x00, 0x00, 0x00,
};

// The same arrays through np.savez_compressed.
const uint8_t kSavezCompressed[] = {
    0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00,
    0x21, 0x00, 0x4b, 0x4a, 0x68, 0x01, 0x57, 0x00, 0x00, 0x00, 0x98, 0x00,
    0x00, 0x00, 0x05, 0x00, 0x14, 0x00, 0x78, 0x2e, 0x6e, 0x70, 0x79, 0x01,
    0x00, 0x10, 0x00, 0x98, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x57,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9b, 0xec, 0x17, 0xea, 0x1b,
    0x10, 0xc9, 0xc8, 0x50, 0xc6, 0x50, 0xad, 0x9e, 0x92, 0x5a, 0x9c, 0x5c,
    0xa4, 0x6e, 0xa5, 0xa0, 0x6e, 0x93, 0x66, 0xa2, 0xae, 0xa3, 0xa0, 0x9e,
    0x96, 0x5f, 0x54, 0x52, 0x94, 0x98, 0x17, 0x9f, 0x5f, 0x94, 0x92, 0x0a,
    0x12, 0x77, 0x4b, 0xcc, 0x29, 0x4e, 0x05, 0x8a, 0x17, 0x67, 0x24, 0x16,
    0xa4, 0x02, 0xf9, 0x1a, 0x46, 0x3a, 0x0a, 0xc6, 0x9a, 0x3a, 0x0a, 0xb5,
    0x0a, 0x64, 0x03, 0x2e, 0x06, 0x86, 0x86, 0xfd, 0x0c, 0x0c, 0x0c, 0x20,
    0x0c, 0x02, 0xf6, 0x40, 0x3e, 0x10, 0x1f, 0xb0, 0x07, 0x00, 0x50, 0x4b,
    0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00,
    0x58, 0xe0, 0x63, 0x74, 0x4d, 0x00, 0x00, 0x00, 0x98, 0x00, 0x00, 0x00,
    0x0a, 0x00, 0x14, 0x00, 0x6c, 0x61, 0x62, 0x65, 0x6c, 0x73, 0x2e, 0x6e,
    0x70, 0x79, 0x01, 0x00, 0x10, 0x00, 0x98, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x4d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9b, 0xec,
    0x17, 0xea, 0x1b, 0x10, 0xc9, 0xc8, 0x50, 0xc6, 0x50, 0xad, 0x9e, 0x92,
    0x5a, 0x9c, 0x5c, 0xa4, 0x6e, 0xa5, 0xa0, 0x6e, 0x93, 0x69, 0xa1, 0xae,
    0xa3, 0xa0, 0x9e, 0x96, 0x5f, 0x54, 0x52, 0x94, 0x98, 0x17, 0x9f, 0x5f,
    0x94, 0x92, 0x0a, 0x12, 0x77, 0x4b, 0xcc, 0x29, 0x4e, 0x05, 0x8a, 0x17,
    0x67, 0x24, 0x16, 0xa4, 0x02, 0xf9, 0x1a, 0xc6, 0x3a, 0x9a, 0x3a, 0x0a,
    0xb5, 0x0a, 0x14, 0x00, 0x2e, 0x66, 0x06, 0x08, 0x60, 0x84, 0xd2, 0x2c,
    0x50, 0x1a, 0x00, 0x50, 0x4b, 0x01, 0x02, 0x14, 0x03, 0x14, 0x00, 0x00,
    0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00, 0x4b, 0x4a, 0x68, 0x01, 0x57,
    0x00, 0x00, 0x00, 0x98, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x78, 0x2e, 0x6e, 0x70, 0x79, 0x50, 0x4b, 0x01, 0x02, 0x14, 0x03,
    0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00, 0x58, 0xe0,
    0x63, 0x74, 0x4d, 0x00, 0x00, 0x00, 0x98, 0x00, 0x00, 0x00, 0x0a, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01,
    0x8e, 0x00, 0x00, 0x00, 0x6c, 0x61, 0x62, 0x65, 0x6c, 0x73, 0x2e, 0x6e,
    0x70, 0x79, 0x50, 0x4b, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
    0x02, 0x00, 0x6b, 0x00, 0x00, 0x00, 0x17, 0x01, 0x00, 0x00, 0x00, 0x00,
};

constexpr uint16_t kStored = 0;
constexpr uint16_t kDeflate = 8;

void put(std::vector<uint8_t> &out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(uint8_t(value >> (8 * i)));
}

std::vector<uint8_t> deflateRaw(const std::vector<uint8_t> &contents) {
  z_stream stream{};
  EXPECT_EQ(deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8,
                         Z_DEFAULT_STRATEGY),
            Z_OK);
  std::vector<uint8_t> out(deflateBound(&stream, uLong(contents.size())));
  stream.next_in = const_cast<Bytef *>(contents.data());
  stream.avail_in = uInt(contents.size());
  stream.next_out = out.data();
  stream.avail_out = uInt(out.size());
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

/// One member of a zip archive built by `buildZip`; the optional fields
/// override what a correct writer would store.
struct TestMember {
  std::string name;
  std::vector<uint8_t> contents; // uncompressed
  uint16_t method = kStored;
  uint16_t flags = 0;
  bool zip64Extra = false; // sizes and offset only in a zip64 extra field
  std::optional<std::vector<uint8_t>> data; // instead of the coded contents
  std::optional<uint32_t> crc;
  std::optional<uint64_t> declaredSize;
  std::optional<uint64_t> localHeaderOffset;
};

std::vector<uint8_t> buildZip(const std::vector<TestMember> &members,
                              bool zip64End = false,
                              const std::string &comment = "") {
  std::vector<uint8_t> out, directory;
  for (const TestMember &member : members) {
    std::vector<uint8_t> data = member.data.value_or(
        member.method == kDeflate ? deflateRaw(member.contents)
                                  : member.contents);
    uint32_t crc = member.crc.value_or(uint32_t(
        crc32(0, member.contents.data(), uInt(member.contents.size()))));
    uint64_t size = member.declaredSize.value_or(member.contents.size());
    uint64_t offset = member.localHeaderOffset.value_or(out.size());
    std::vector<uint8_t> extra;
    if (member.zip64Extra) {
      put(extra, 1, 2);
      put(extra, 24, 2);
      put(extra, size, 8);
      put(extra, data.size(), 8);
      put(extra, offset, 8);
    }
    auto header = [&](std::vector<uint8_t> &to, bool central) {
      put(to, central ? 0x02014b50 : 0x04034b50, 4);
      if (central)
        put(to, 45, 2); // version made by
      put(to, 45, 2);   // version needed
      put(to, member.flags, 2);
      put(to, member.method, 2);
      put(to, 0, 2);    // time
      put(to, 0x21, 2); // date
      put(to, crc, 4);
      put(to, member.zip64Extra ? 0xffffffff : data.size(), 4);
      put(to, member.zip64Extra ? 0xffffffff : size, 4);
      put(to, member.name.size(), 2);
      put(to, extra.size(), 2);
      if (central) {
        put(to, 0, 2); // comment length
        put(to, 0, 2); // disk
        put(to, 0, 2); // internal attributes
        put(to, 0, 4); // external attributes
        put(to, member.zip64Extra ? 0xffffffff : offset, 4);
      }
      to.insert(to.end(), member.name.begin(), member.name.end());
      to.insert(to.end(), extra.begin(), extra.end());
    };
    header(out, /*central=*/false);
    out.insert(out.end(), data.begin(), data.end());
    header(directory, /*central=*/true);
  }
  uint64_t directoryOffset = out.size();
  out.insert(out.end(), directory.begin(), directory.end());
  if (zip64End) {
    uint64_t record = out.size();
    put(out, 0x06064b50, 4);
    put(out, 44, 8);
    put(out, 45, 2);
    put(out, 45, 2);
    put(out, 0, 4);
    put(out, 0, 4);
    put(out, members.size(), 8);
    put(out, members.size(), 8);
    put(out, directory.size(), 8);
    put(out, directoryOffset, 8);
    put(out, 0x07064b50, 4);
    put(out, 0, 4);
    put(out, record, 8);
    put(out, 1, 4);
  }
  put(out, 0x06054b50, 4);
  put(out, 0, 2);
  put(out, 0, 2);
  put(out, zip64End ? 0xffff : members.size(), 2);
  put(out, zip64End ? 0xffff : members.size(), 2);
  put(out, zip64End ? 0xffffffff : directory.size(), 4);
  put(out, zip64End ? 0xffffffff : directoryOffset, 4);
  put(out, comment.size(), 2);
  out.insert(out.end(), comment.begin(), comment.end());
  return out;
}

std::vector<uint8_t> npy(const std::vector<double> &values) {
  return serializeNpy(
      NpyArray::fromDoubles(NpyType::F32, {int64_t(values.size())}, values));
}

std::optional<std::vector<NpzEntry>> parse(const std::vector<uint8_t> &bytes,
                                           std::string &error) {
  return parseNpz(bytes.data(), bytes.size(), error);
}

std::string parseError(const std::vector<uint8_t> &bytes) {
  std::string error;
  EXPECT_FALSE(parse(bytes, error));
  return error;
}

void expectNumpyArrays(const std::vector<NpzEntry> &entries) {
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].name, "x");
  EXPECT_EQ(entries[0].array.type, NpyType::F32);
  EXPECT_EQ(entries[0].array.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(entries[0].array.toDoubles(),
            (std::vector<double>{-1, -0.5, 0, 0.5, 1, 1.5}));
  EXPECT_EQ(entries[1].name, "labels");
  EXPECT_EQ(entries[1].array.type, NpyType::I64);
  EXPECT_EQ(entries[1].array.shape, std::vector<int64_t>{3});
  EXPECT_EQ(entries[1].array.toDoubles(), (std::vector<double>{3, 1, 4}));
}

TEST(NpzTest, ReadsNumpySavez) {
  std::string error;
  auto entries = parseNpz(kSavez, sizeof(kSavez), error);
  ASSERT_TRUE(entries) << error;
  expectNumpyArrays(*entries);
}

TEST(NpzTest, ReadsNumpySavezCompressed) {
  std::string error;
  auto entries = parseNpz(kSavezCompressed, sizeof(kSavezCompressed), error);
  ASSERT_TRUE(entries) << error;
  expectNumpyArrays(*entries);
}

TEST(NpzTest, ReadsZip64DataDescriptorsAndComments) {
  constexpr uint16_t kFlagDataDescriptor = 1 << 3;
  std::vector<uint8_t> zeros = npy(std::vector<double>(1000, 0.0));
  auto archive =
      buildZip({{"a.npy", npy({1, 2}), kStored, 0, /*zip64Extra=*/true},
                {"zeros.npy", zeros, kDeflate, kFlagDataDescriptor, true},
                {"dir/b.npy", npy({3}), kDeflate}},
               /*zip64End=*/true, "archive comment");
  std::string error;
  auto entries = parse(archive, error);
  ASSERT_TRUE(entries) << error;
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].name, "a");
  EXPECT_EQ((*entries)[0].array.toDoubles(), (std::vector<double>{1, 2}));
  EXPECT_EQ((*entries)[1].name, "zeros");
  EXPECT_EQ((*entries)[1].array.toDoubles(), std::vector<double>(1000, 0.0));
  EXPECT_EQ((*entries)[2].name, "dir/b");
  EXPECT_EQ((*entries)[2].array.toDoubles(), std::vector<double>{3});

  entries = parse(buildZip({}), error);
  ASSERT_TRUE(entries) << error;
  EXPECT_TRUE(entries->empty());
}

TEST(NpzTest, RejectsEveryTruncationAndSurvivesEveryByteFlip) {
  for (const auto &[data, size] :
       {std::pair(kSavez, sizeof(kSavez)),
        std::pair(kSavezCompressed, sizeof(kSavezCompressed))}) {
    std::vector<uint8_t> bytes(data, data + size);
    for (size_t length = 0; length < size; ++length) {
      std::string error;
      EXPECT_FALSE(parseNpz(bytes.data(), length, error)) << length;
      EXPECT_FALSE(error.empty());
    }
    for (size_t i = 0; i < size; ++i) {
      std::vector<uint8_t> flipped = bytes;
      flipped[i] ^= 0x55;
      std::string error;
      if (!parse(flipped, error)) {
        EXPECT_FALSE(error.empty()) << i;
      }
    }
  }
  EXPECT_EQ(parseError({}),
            "not an .npz archive (no zip end-of-central-directory record)");
  EXPECT_EQ(parseError(npy({1})), "a .npy file, not an .npz archive");
}

TEST(NpzTest, RejectsBadChecksums) {
  TestMember member{"a.npy", npy({1, 2})};
  member.crc = 0x12345678;
  std::string error = parseError(buildZip({member}));
  EXPECT_EQ(error.rfind("member 'a.npy': CRC-32 mismatch (stored 12345678, "
                        "computed ",
                        0),
            0u)
      << error;
  member.method = kDeflate;
  error = parseError(buildZip({member}));
  EXPECT_EQ(error.rfind("member 'a.npy': CRC-32 mismatch", 0), 0u) << error;
}

TEST(NpzTest, RejectsBadOffsets) {
  std::vector<uint8_t> good = buildZip({{"a.npy", npy({1})}});
  // The EOCD's directory offset is its bytes 16..19.
  std::vector<uint8_t> directoryPastEnd = good;
  directoryPastEnd[good.size() - 22 + 16] = 0xf0;
  EXPECT_EQ(parseError(directoryPastEnd).rfind("central directory (offset ", 0),
            0u);
  std::vector<uint8_t> moreEntries = good;
  moreEntries[good.size() - 22 + 8] = 2;
  moreEntries[good.size() - 22 + 10] = 2;
  EXPECT_EQ(parseError(moreEntries),
            "central directory of 51 bytes cannot hold 2 entries");

  TestMember misplaced{"a.npy", npy({1})};
  misplaced.localHeaderOffset = 7;
  EXPECT_EQ(parseError(buildZip({misplaced})),
            "member 'a.npy': no local header at offset 7");
  misplaced.localHeaderOffset = uint64_t(1) << 40;
  misplaced.zip64Extra = true;
  EXPECT_EQ(parseError(buildZip({misplaced})),
            "member 'a.npy': no local header at offset 1099511627776");

  // Data that would run into the central directory.
  std::vector<uint8_t> overrun = good;
  uint64_t entry = good[good.size() - 22 + 16];
  entry |= uint64_t(good[good.size() - 22 + 17]) << 8;
  for (int sizeField : {20, 24})
    overrun[entry + sizeField + 2] = 1; // 64 KiB more

  EXPECT_EQ(parseError(overrun).rfind("member 'a.npy': data (", 0), 0u);
  EXPECT_NE(parseError(overrun).find("overruns the member area"),
            std::string::npos);

  TestMember second{"b.npy", npy({2})};
  second.localHeaderOffset = 0;
  EXPECT_EQ(parseError(buildZip({{"a.npy", npy({1})}, second})),
            "member 'b.npy': local header names 'a.npy'");

  std::vector<uint8_t> otherDisk = good;
  otherDisk[good.size() - 22 + 4] = 1;
  EXPECT_EQ(parseError(otherDisk), "multi-disk zip archives are not supported");
}

TEST(NpzTest, RejectsOverlappingMembers) {
  // Two members whose data ranges share bytes: the second's local header
  // sits inside the first's data.
  std::vector<uint8_t> inner = buildZip({{"b.npy", npy({2})}});
  std::vector<uint8_t> innerHeader(inner.begin(), inner.begin() + 30 + 5);
  std::vector<uint8_t> outerData = innerHeader;
  std::vector<uint8_t> innerNpy = npy({2});
  outerData.insert(outerData.end(), innerNpy.begin(), innerNpy.end());
  TestMember outer{"a.npy", outerData};
  TestMember nested{"b.npy", innerNpy};
  uint64_t outerHeaderSize = 30 + outer.name.size();
  nested.localHeaderOffset = outerHeaderSize;
  EXPECT_EQ(parseError(buildZip({outer, nested})),
            "members 'a.npy' and 'b.npy' overlap");
}

TEST(NpzTest, RejectsUnsupportedMembers) {
  EXPECT_EQ(
      parseError(buildZip(
          {{"notes.txt", {'h', 'i', '!', '!', '!', '!', '!', '!', '!', '!'}}})),
      "member 'notes.txt': not a .npy file (bad magic)");
  TestMember truncatedNpy{"a.npy", npy({1, 2})};
  truncatedNpy.contents.pop_back();
  EXPECT_NE(parseError(buildZip({truncatedNpy}))
                .find("member 'a.npy': truncated or oversized .npy data"),
            std::string::npos);
  EXPECT_EQ(parseError(buildZip({{"a.npy", npy({1}), kStored, /*flags=*/1}})),
            "member 'a.npy': encrypted members are not supported");
  EXPECT_EQ(parseError(buildZip({{"a.npy", npy({1}), /*method=*/12}})),
            "member 'a.npy': unsupported compression method 12 (expected "
            "stored or deflate)");
  EXPECT_EQ(parseError(buildZip({{".npy", npy({1})}})),
            "member '.npy': empty array name");
  EXPECT_EQ(parseError(buildZip({{"a\n'b.npy", npy({1}), kStored, 1}})),
            "member 'a\\x0a\\x27b.npy': encrypted members are not supported");
  EXPECT_EQ(parseError(buildZip({{"a.npy", npy({1})}, {"a", npy({2})}})),
            "member 'a': duplicate array name 'a'");
  TestMember storedMismatch{"a.npy", npy({1})};
  storedMismatch.declaredSize = storedMismatch.contents.size() - 1;
  EXPECT_NE(parseError(buildZip({storedMismatch})).find("stored member"),
            std::string::npos);
}

TEST(NpzTest, RejectsCorruptDeflateStreams) {
  TestMember garbage{"a.npy", npy({1}), kDeflate};
  garbage.data = std::vector<uint8_t>(64, 0xff);
  EXPECT_EQ(parseError(buildZip({garbage}))
                .rfind("member 'a.npy': corrupt deflate stream (", 0),
            0u);
  TestMember truncated{"a.npy", npy({1, 2, 3}), kDeflate};
  truncated.data = deflateRaw(truncated.contents);
  truncated.data->resize(truncated.data->size() / 2);
  EXPECT_EQ(parseError(buildZip({truncated})),
            "member 'a.npy': truncated deflate stream");
  TestMember trailing{"a.npy", npy({1, 2, 3}), kDeflate};
  trailing.data = deflateRaw(trailing.contents);
  trailing.data->push_back(0);
  EXPECT_EQ(parseError(buildZip({trailing})),
            "member 'a.npy': 1 bytes follow the end of the deflate stream");
}

TEST(NpzTest, RejectsDecompressionBombs) {
  // A megabyte of zeros deflates to about a kilobyte.
  TestMember bomb{"a.npy", std::vector<uint8_t>(1 << 20), kDeflate};
  bomb.declaredSize = 1000;
  EXPECT_EQ(parseError(buildZip({bomb})),
            "member 'a.npy': inflates to more than the declared 1000 bytes");

  TestMember shortfall{"a.npy", npy({1, 2}), kDeflate};
  shortfall.declaredSize = shortfall.contents.size() + 1;
  EXPECT_EQ(parseError(buildZip({shortfall})),
            "member 'a.npy': inflates to " +
                std::to_string(shortfall.contents.size()) +
                " bytes, the central directory declares " +
                std::to_string(shortfall.contents.size() + 1));

  TestMember impossible{"a.npy", npy({1}), kDeflate, 0, /*zip64Extra=*/true};
  impossible.declaredSize = uint64_t(1) << 30;
  std::string error = parseError(buildZip({impossible}));
  EXPECT_NE(error.find("declares 1073741824 bytes from"), std::string::npos);
  EXPECT_NE(error.find("more than deflate can encode"), std::string::npos);

  TestMember huge{"a.npy", npy({1}), kDeflate, 0, true};
  huge.declaredSize = kMaxNpzUncompressedBytes + 1;
  EXPECT_EQ(parseError(buildZip({huge})),
            "member 'a.npy': declares " +
                std::to_string(kMaxNpzUncompressedBytes + 1) +
                " uncompressed bytes, more than the limit of " +
                std::to_string(kMaxNpzUncompressedBytes));

  // Members that each pass but together exceed the limit; their data is
  // never inflated.
  uint64_t share = kMaxNpzUncompressedBytes / 2 + 1;
  std::vector<uint8_t> opaque(share / 1024 + 1);
  TestMember first{"a.npy", {}, kDeflate, 0, true, opaque};
  first.declaredSize = share;
  TestMember second = first;
  second.name = "b.npy";
  EXPECT_EQ(parseError(buildZip({first, second})),
            "members declare more than the limit of " +
                std::to_string(kMaxNpzUncompressedBytes) +
                " uncompressed bytes");
}

class NpzFileTest : public testing::Test {
protected:
  void SetUp() override {
    char pattern[] = "/tmp/quant-npz-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  std::string write(const std::string &name, const uint8_t *data, size_t size) {
    std::string path = dir + "/" + name;
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char *>(data), size);
    return path;
  }
  std::string write(const std::string &name,
                    const std::vector<uint8_t> &bytes) {
    return write(name, bytes.data(), bytes.size());
  }

  std::string dir;
};

TEST_F(NpzFileTest, ReadsFiles) {
  std::string error;
  auto entries = readNpzFile(
      write("calib.npz", kSavezCompressed, sizeof(kSavezCompressed)), error);
  ASSERT_TRUE(entries) << error;
  expectNumpyArrays(*entries);

  std::string bad = write("bad.npz", kSavez, sizeof(kSavez) - 1);
  EXPECT_FALSE(readNpzFile(bad, error));
  EXPECT_EQ(error, bad + ": not an .npz archive (no zip "
                         "end-of-central-directory record)");
  EXPECT_FALSE(readNpzFile(dir + "/missing.npz", error));
  EXPECT_EQ(error, "cannot open '" + dir + "/missing.npz'");
  EXPECT_FALSE(readNpzFile(dir, error));
  EXPECT_EQ(error, "'" + dir + "' is a directory");
}

TEST_F(NpzFileTest, ReadsNpyDirectoriesInNameOrder) {
  write("b.npy", npy({2}));
  write("a.npy", npy({1}));
  write("notes.txt", {'h', 'i'});
  std::filesystem::create_directory(dir + "/c.npy");
  std::string error;
  auto entries = readNpyDirectory(dir, error);
  ASSERT_TRUE(entries) << error;
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].name, "a");
  EXPECT_EQ((*entries)[0].array.toDoubles(), std::vector<double>{1});
  EXPECT_EQ((*entries)[1].name, "b");
  EXPECT_EQ((*entries)[1].array.toDoubles(), std::vector<double>{2});

  write("d.npy", {'P', 'K'});
  EXPECT_FALSE(readNpyDirectory(dir, error));
  EXPECT_EQ(error, dir + "/d.npy: not a .npy file (bad magic)");
  EXPECT_FALSE(readNpyDirectory(dir + "/missing", error));
  EXPECT_EQ(error, "cannot read directory '" + dir +
                       "/missing': No such file or directory");
  std::filesystem::create_directory(dir + "/empty");
  entries = readNpyDirectory(dir + "/empty", error);
  ASSERT_TRUE(entries) << error;
  EXPECT_TRUE(entries->empty());
}

} // namespace
