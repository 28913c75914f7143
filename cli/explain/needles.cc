#include "needles.h"

#include <algorithm>

namespace smwatch::cli {

void NeedleIndex::add(std::string needle, uint32_t signature) {
  if (needle.empty()) return;
  (needle.size() < kPrefix ? short_ : entries_).push_back({std::move(needle), signature});
}

void NeedleIndex::build(size_t signatures) {
  words_ = (signatures + 63) / 64;
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const Entry& a, const Entry& b) { return bucket(a.needle.data()) < bucket(b.needle.data()); });
  starts_.assign(kBuckets + 1, 0);
  for (const auto& e : entries_) ++starts_[bucket(e.needle.data()) + 1];
  for (size_t b = 0; b < kBuckets; ++b) starts_[b + 1] += starts_[b];
}

SignatureBits NeedleIndex::scan(std::string_view low) const {
  SignatureBits bits(words_, 0);
  auto set = [&](uint32_t s) { bits[s / 64] |= uint64_t{1} << (s % 64); };
  for (const auto& e : short_)
    if (low.find(e.needle) != std::string_view::npos) set(e.signature);
  if (low.size() < kPrefix || entries_.empty()) return bits;
  const char* p = low.data();
  for (size_t i = 0; i + kPrefix <= low.size(); ++i) {
    const size_t b = bucket(p + i);
    for (uint32_t k = starts_[b]; k < starts_[b + 1]; ++k) {
      const std::string& n = entries_[k].needle;
      if (n.size() <= low.size() - i && low.compare(i, n.size(), n) == 0) set(entries_[k].signature);
    }
  }
  return bits;
}

}  // namespace smwatch::cli
