// Every compression mode must give back exactly the bytes of the uncompressed build.
#include <gtest/gtest.h>

#include "smwatch/decompress.h"
#include "smwatch/mapped_file.h"
#include "smwatch/scan.h"
#include "test_support.h"

namespace smwatch {
namespace {

std::vector<std::vector<uint8_t>> all_images(const std::string& file) {
  auto mapped = MappedFile::open(test::fixture(file));
  EXPECT_TRUE(mapped) << file;
  FileScan scan = scan_bytes(mapped->bytes(), file, {});
  std::vector<std::vector<uint8_t>> out;
  for (const auto& c : scan.containers)
    for (const auto& img : c.images) {
      auto payload = image_payload(mapped->bytes(), img);
      EXPECT_TRUE(payload);
      auto bytes = decompress_image(img, *payload);
      EXPECT_TRUE(bytes) << file << ": " << bytes.error().message;
      if (bytes) out.push_back(*bytes);
    }
  return out;
}

TEST(Decompress, EveryModeGivesTheUncompressedBytes) {
  auto reference = all_images("multi_none.fatbin");
  ASSERT_EQ(reference.size(), 5u);
  for (const char* file : {"multi_default.fatbin", "multi_size.fatbin", "multi_speed.fatbin", "multi_balance.fatbin",
                           "multi_all.fatbin", "multi_speed_all.fatbin"}) {
    auto images = all_images(file);
    ASSERT_EQ(images.size(), reference.size()) << file;
    for (size_t i = 0; i < images.size(); ++i) {
      // Stored payloads are padded to 8 bytes; the content must match up to
      // the shorter length and differ only in trailing NUL padding.
      const auto& a = images[i];
      const auto& b = reference[i];
      size_t n = std::min(a.size(), b.size());
      EXPECT_TRUE(std::equal(a.begin(), a.begin() + n, b.begin())) << file << " image " << i;
      for (size_t k = n; k < a.size(); ++k) EXPECT_EQ(a[k], 0) << file << " image " << i;
      for (size_t k = n; k < b.size(); ++k) EXPECT_EQ(b[k], 0) << file << " image " << i;
    }
  }
}

TEST(Decompress, RejectsLiesAndBombs) {
  auto mapped = MappedFile::open(test::fixture("multi_size.fatbin"));
  ASSERT_TRUE(mapped);
  FileScan scan = scan_bytes(mapped->bytes(), "x", {});
  ASSERT_FALSE(scan.containers.empty());
  FatbinImage img = scan.containers[0].images[0];
  ASSERT_EQ(img.compression, Compression::kZstd);
  auto payload = *image_payload(mapped->bytes(), img);

  FatbinImage bomb = img;
  bomb.uncompressed_size = uint64_t{64} << 30;
  auto r = decompress_image(bomb, payload);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("over the limit"), std::string::npos) << r.error().message;

  FatbinImage small = img;
  small.uncompressed_size = img.uncompressed_size / 2;
  EXPECT_FALSE(decompress_image(small, payload));

  FatbinImage large = img;
  large.uncompressed_size = img.uncompressed_size * 2;
  EXPECT_FALSE(decompress_image(large, payload));

  std::vector<uint8_t> garbage(payload.size(), 0xAB);
  EXPECT_FALSE(decompress_image(img, ByteView(garbage.data(), garbage.size())));
  FatbinImage lz = img;
  lz.compression = Compression::kLz;
  EXPECT_FALSE(decompress_image(lz, ByteView(garbage.data(), garbage.size())));
}

TEST(Decompress, WithinABoundGivesUpOnMoreButStillCatchesLies) {
  // Every mode's images (zstd and the LZ4 block): within their own size
  // they decode as decompress_image does; within less, nothing, no error;
  // one declaring twice its data is still damage within a bound above it.
  for (const char* file : {"multi_size.fatbin", "multi_speed.fatbin"}) {
    auto mapped = MappedFile::open(test::fixture(file));
    ASSERT_TRUE(mapped);
    FileScan scan = scan_bytes(mapped->bytes(), file, {});
    size_t compressed = 0;
    for (const auto& c : scan.containers)
      for (const auto& img : c.images) {
        if (img.compression == Compression::kNone) continue;
        ++compressed;
        const ByteView payload = *image_payload(mapped->bytes(), img);
        auto whole = decompress_image(img, payload);
        ASSERT_TRUE(whole) << whole.error().message;
        auto within = decompress_image_within(img, payload, img.uncompressed_size);
        ASSERT_TRUE(within && *within) << file;
        EXPECT_EQ(**within, *whole) << file;
        auto less = decompress_image_within(img, payload, img.uncompressed_size / 2);
        ASSERT_TRUE(less) << less.error().message;
        EXPECT_FALSE(*less) << file << ": decoded past the bound";
        FatbinImage lying = img;
        lying.uncompressed_size = img.uncompressed_size * 2;
        auto lie = decompress_image_within(lying, payload, lying.uncompressed_size * 4);
        ASSERT_FALSE(lie) << file << ": a lie passed";
        EXPECT_NE(lie.error().message.find("declares " + std::to_string(lying.uncompressed_size)), std::string::npos)
            << lie.error().message;
      }
    EXPECT_GT(compressed, 0u) << file;
  }
}

}  // namespace
}  // namespace smwatch
