// A bounds-checked, read-only view over untrusted bytes. Every read says
// whether it fit; nothing here can read past the end of the view.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace smwatch {

class ByteView {
 public:
  ByteView() = default;
  ByteView(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  ByteView(const void* data, size_t size) : data_(static_cast<const uint8_t*>(data)), size_(size) {}

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // True when [offset, offset + length) lies inside the view (overflow-safe).
  bool contains(uint64_t offset, uint64_t length) const {
    return offset <= size_ && length <= size_ - offset;
  }
  // The sub-view [offset, offset + length), or nothing when it does not fit.
  std::optional<ByteView> slice(uint64_t offset, uint64_t length) const {
    if (!contains(offset, length)) return std::nullopt;
    return ByteView(data_ + offset, static_cast<size_t>(length));
  }
  ByteView tail(uint64_t offset) const {
    return offset >= size_ ? ByteView() : ByteView(data_ + offset, size_ - offset);
  }
  template <typename T>  // little-endian unsigned integers only
  std::optional<T> read(uint64_t offset) const {
    if (!contains(offset, sizeof(T))) return std::nullopt;
    T value;
    std::memcpy(&value, data_ + offset, sizeof(T));
    return value;
  }
  bool starts_with(std::string_view prefix) const {
    return size_ >= prefix.size() && std::memcmp(data_, prefix.data(), prefix.size()) == 0;
  }
  std::string_view as_chars() const {
    return {reinterpret_cast<const char*>(data_), size_};
  }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace smwatch
