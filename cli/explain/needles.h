// Which signatures' needles occur in a line, in one pass over the line.
//
// Every line of a log is checked against every needle of every signature
// (hundreds of literals); one std::string::find per needle made that the
// largest cost of explain once the signature list grew. Needles are indexed
// by their first three bytes: a line is read once, and at each position only
// the needles starting with those bytes are compared.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace smwatch::cli {

// A set of signature indices, one bit each.
using SignatureBits = std::vector<uint64_t>;

inline bool has_bit(const SignatureBits& bits, size_t i) {
  return i / 64 < bits.size() && (bits[i / 64] >> (i % 64) & 1u) != 0;
}

class NeedleIndex {
 public:
  // `needle` in lower case, non-empty; `signature` its signature's index.
  void add(std::string needle, uint32_t signature);
  // Sorts what add() collected into buckets; call once, before scan().
  void build(size_t signatures);
  // The signatures with a needle in `low` (lower-case text).
  SignatureBits scan(std::string_view low) const;

 private:
  static constexpr size_t kPrefix = 3;
  static constexpr size_t kBuckets = 1 << 12;
  static size_t bucket(const char* p) {
    const auto b = [&](size_t i) { return static_cast<size_t>(static_cast<unsigned char>(p[i])); };
    return (b(0) * 961 + b(1) * 31 + b(2)) & (kBuckets - 1);
  }
  struct Entry {
    std::string needle;
    uint32_t signature;
  };
  std::vector<Entry> entries_;     // by bucket after build()
  std::vector<uint32_t> starts_;   // bucket b: entries_[starts_[b], starts_[b + 1])
  std::vector<Entry> short_;       // needles shorter than kPrefix, found with find()
  size_t words_ = 0;
};

}  // namespace smwatch::cli
