#include "smwatch/container_image.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "elf_stream.h"
#include "scan_internal.h"
#include "smwatch/elf.h"
#include "smwatch/text.h"
#include "smwatch/zip.h"

namespace smwatch {
namespace {

using json = nlohmann::json;
constexpr uint64_t kMiB = uint64_t{1} << 20;
// Symlinks followed for one path, as Linux does (MAXSYMLINKS): more is a loop.
constexpr int kMaxSymlinks = 40;
// Components of an entry's name: PATH_MAX (4096) holds at most 2048. The
// tree's recursion (walk, opaque purge, destruction) stays this deep.
constexpr size_t kMaxComponents = 2048;
// Directories the walk descends through at once, symlinks included.
constexpr size_t kMaxWalkDepth = 4096;

struct ArchiveCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveCloser>;

std::string archive_reason(archive* a) {
  const char* reason = archive_error_string(a);
  std::string text = reason != nullptr ? reason : "libarchive gave no reason";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text.empty() ? "libarchive gave no reason" : text;
}

std::string hex(const uint8_t* p, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += fmt::format("{:02x}", p[i]);
  return out;
}

// ---- Where the blobs are: a layout directory or a tar ----------------------

// One blob read as a stream: next() gives the next bytes (empty at the end);
// a failure is an error, not an end.
class BlobStream {
 public:
  virtual ~BlobStream() = default;
  virtual Result<ByteView> next() = 0;
};

class FileBlob : public BlobStream {
 public:
  FileBlob(int fd, size_t chunk) : fd_(fd), buffer_(chunk) {}
  ~FileBlob() override { ::close(fd_); }
  Result<ByteView> next() override {
    ssize_t got;
    do got = ::read(fd_, buffer_.data(), buffer_.size());
    while (got < 0 && errno == EINTR);
    if (got < 0) return make_error(std::string("cannot read: ") + std::strerror(errno));
    return ByteView(buffer_.data(), static_cast<size_t>(got));
  }

 private:
  int fd_;
  std::vector<uint8_t> buffer_;
};

// A member of a tar, read through its own libarchive reader (so layers can be
// read at once on several threads); members before it are skipped by seeking.
class TarMemberBlob : public BlobStream {
 public:
  explicit TarMemberBlob(ArchivePtr a) : a_(std::move(a)) {}
  Result<ByteView> next() override {
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int rc = archive_read_data_block(a_.get(), &block, &size, &offset);
    if (rc == ARCHIVE_EOF) return ByteView();
    if (rc < ARCHIVE_WARN) return make_error(archive_reason(a_.get()));
    if (static_cast<uint64_t>(offset) != at_) return make_error("sparse member: not a layer blob");
    at_ += size;
    return ByteView(static_cast<const uint8_t*>(block), size);
  }

 private:
  ArchivePtr a_;
  uint64_t at_ = 0;
};

// "./blobs/sha256/ab" and "blobs/sha256/ab" name the same member.
std::string clean_member_name(std::string_view name) {
  while (name.starts_with("./")) name.remove_prefix(2);
  while (name.starts_with("/")) name.remove_prefix(1);
  return std::string(name);
}

class Layout {
 public:
  // `root`: a directory, or a tar file.
  Layout(std::string root, bool is_dir, size_t chunk) : root_(std::move(root)), dir_(is_dir), chunk_(chunk) {}

  bool has(const std::string& name) const {
    if (dir_) {
      struct stat st {};
      return ::stat((root_ + "/" + name).c_str(), &st) == 0 && S_ISREG(st.st_mode);
    }
    return tar_names().count(name) > 0;
  }

  Result<std::unique_ptr<BlobStream>> open(const std::string& name) const {
    if (dir_) {
      if (name.find("..") != std::string::npos) return make_error(name + ": not a blob name");
      int fd = ::open((root_ + "/" + name).c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
      if (fd < 0) return make_error(name + ": " + (errno == ENOENT ? "missing blob" : std::strerror(errno)));
      struct stat st {};
      if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return make_error(name + ": not a regular file");
      }
      return std::unique_ptr<BlobStream>(new FileBlob(fd, chunk_));
    }
    auto a = open_tar();
    if (!a) return make_error(a.error().message);
    archive_entry* entry = nullptr;
    while (true) {
      int rc = archive_read_next_header(a->get(), &entry);
      if (rc == ARCHIVE_EOF) return make_error(name + ": missing blob (not in the tar)");
      if (rc < ARCHIVE_WARN) return make_error("cannot read the tar: " + archive_reason(a->get()));
      const char* n = archive_entry_pathname(entry);
      if (n != nullptr && clean_member_name(n) == name && archive_entry_filetype(entry) == AE_IFREG)
        return std::unique_ptr<BlobStream>(new TarMemberBlob(std::move(*a)));
    }
  }

  // A small blob whole (manifests, configs), at most `max` bytes.
  Result<std::string> read_small(const std::string& name, uint64_t max) const {
    auto blob = open(name);
    if (!blob) return make_error(blob.error().message);
    std::string out;
    while (true) {
      auto bytes = (*blob)->next();
      if (!bytes) return make_error(name + ": " + bytes.error().message);
      if (bytes->size() == 0) return out;
      out.append(bytes->as_chars());
      if (out.size() > max) return make_error(fmt::format("{}: over {} MiB: not a manifest", name, max / kMiB));
    }
  }

 private:
  Result<ArchivePtr> open_tar() const {
    ArchivePtr a(archive_read_new());
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
    archive_read_support_filter_all(a.get());
    if (archive_read_open_filename(a.get(), root_.c_str(), 1 << 16) != ARCHIVE_OK)
      return make_error("not a readable tar: " + archive_reason(a.get()));
    return a;
  }

  // The member names of a tar, read once (headers only: the data is skipped).
  const std::set<std::string>& tar_names() const {
    std::call_once(names_once_, [&] {
      auto a = open_tar();
      if (!a) return;
      archive_entry* entry = nullptr;
      while (archive_read_next_header(a->get(), &entry) >= ARCHIVE_WARN)
        if (const char* n = archive_entry_pathname(entry); n != nullptr && archive_entry_filetype(entry) == AE_IFREG)
          names_.insert(clean_member_name(n));
    });
    return names_;
  }

  std::string root_;
  bool dir_;
  size_t chunk_;
  mutable std::once_flag names_once_;
  mutable std::set<std::string> names_;
};

// The blob a descriptor's "sha256:HEX" digest names.
Result<std::string> blob_name(const std::string& digest) {
  const size_t colon = digest.find(':');
  if (colon == std::string::npos) return make_error("bad digest \"" + printable(digest) + "\"");
  const std::string algorithm = digest.substr(0, colon), encoded = digest.substr(colon + 1);
  if (algorithm.empty() || encoded.empty() ||
      encoded.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos ||
      algorithm.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789+._-") != std::string::npos)
    return make_error("bad digest \"" + printable(digest) + "\"");
  return "blobs/" + algorithm + "/" + encoded;
}

std::string sha256_of(std::string_view bytes) {
  sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, bytes.size(), reinterpret_cast<const uint8_t*>(bytes.data()));
  uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx, sizeof digest, digest);
  return "sha256:" + hex(digest, sizeof digest);
}

// ---- Choosing the manifest --------------------------------------------------

struct LayerRef {
  std::string blob;    // member or file name in the layout
  std::string digest;  // expected sha256 of the blob's bytes; empty when not known
  std::string label;   // "layer 2 (sha256:ab12...)"
  // The digest is of the uncompressed tar (a docker-archive's diff_ids):
  // checked only when the blob is stored uncompressed.
  bool digest_of_tar = false;
};

struct Manifest {
  std::string name;  // what was read
  std::vector<LayerRef> layers;
};

std::string short_digest(const std::string& digest) { return digest.size() > 19 ? digest.substr(0, 19) : digest; }

// A JSON blob, its digest checked when the descriptor gives one.
Result<json> read_json(const Layout& layout, const std::string& name, const std::string& digest,
                       const ImageLimits& limits) {
  auto text = layout.read_small(name, limits.max_text);
  if (!text) return make_error(text.error().message);
  if (!digest.empty() && digest.starts_with("sha256:") && sha256_of(*text) != digest)
    return make_error(name + ": digest mismatch: the descriptor says " + digest + ", the blob is " + sha256_of(*text));
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return make_error(name + ": not valid JSON");
  return j;
}

// j[key], or null when j is no object or has no such key (a const json's
// operator[] must not be asked for a missing key).
const json& field(const json& j, const char* key) {
  static const json null;
  if (!j.is_object()) return null;
  auto it = j.find(key);
  return it == j.end() ? null : *it;
}

std::string string_at(const json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<Manifest> oci_manifest(const Layout& layout, const json& descriptor, const ImageLimits& limits, int depth = 0) {
  const std::string digest = string_at(descriptor, "digest");
  auto name = blob_name(digest);
  if (!name) return make_error("manifest: " + name.error().message);
  auto m = read_json(layout, *name, digest, limits);
  if (!m) return make_error("manifest " + m.error().message);
  if (m->is_object() && m->contains("manifests")) {  // an index (several platforms): linux/amd64, else the only one
    if (depth > 2) return make_error("manifest " + *name + ": indexes nested too deep");
    const json& list = (*m)["manifests"];
    if (!list.is_array() || list.empty()) return make_error("index " + *name + ": no manifests");
    const json* pick = list.size() == 1 ? &list[0] : nullptr;
    for (const auto& d : list)
      if (d.is_object() && d.contains("platform") && string_at(d["platform"], "os") == "linux" &&
          string_at(d["platform"], "architecture") == "amd64" && pick == nullptr)
        pick = &d;
    if (pick == nullptr) return make_error("index " + *name + ": no linux/amd64 image among " + std::to_string(list.size()));
    return oci_manifest(layout, *pick, limits, depth + 1);
  }
  if (!m->is_object() || !m->contains("layers") || !(*m)["layers"].is_array())
    return make_error("manifest " + *name + ": no layers list");
  Manifest out;
  out.name = digest;
  size_t i = 0;
  for (const auto& d : (*m)["layers"]) {
    ++i;
    const std::string layer_digest = string_at(d, "digest");
    auto blob = blob_name(layer_digest);
    LayerRef ref{blob ? *blob : std::string(), layer_digest,
                 fmt::format("layer {} ({})", i, printable(short_digest(layer_digest)))};
    out.layers.push_back(std::move(ref));
  }
  return out;
}

Result<Manifest> choose_manifest(const Layout& layout, const std::string& tag, const ImageLimits& limits) {
  if (layout.has("index.json")) {
    auto index = read_json(layout, "index.json", "", limits);
    if (!index) return make_error(index.error().message);
    if (!index->is_object() || !(*index)["manifests"].is_array() || (*index)["manifests"].empty())
      return make_error("index.json: no manifests");
    const json& list = (*index)["manifests"];
    std::vector<std::string> tags;
    const json* pick = nullptr;
    for (const auto& d : list) {
      std::string ref;
      if (d.is_object() && d.contains("annotations")) ref = string_at(d["annotations"], "org.opencontainers.image.ref.name");
      if (!ref.empty()) tags.push_back(ref);
      if (!tag.empty() && ref == tag) pick = &d;
    }
    if (tag.empty() && list.size() == 1) pick = &list[0];
    if (pick == nullptr) {
      std::string known;
      for (const auto& t : tags) known += (known.empty() ? "" : ", ") + printable(t);
      if (!tag.empty()) return make_error("no image tagged \"" + printable(tag) + "\" in index.json (tags: " + known + ")");
      return make_error(fmt::format("index.json holds {} images: name one as PATH:TAG (tags: {})", list.size(), known));
    }
    auto m = oci_manifest(layout, *pick, limits);
    if (m && !tag.empty()) m->name = tag + " (" + m->name + ")";
    return m;
  }
  if (layout.has("manifest.json")) {  // docker-archive
    auto manifest = read_json(layout, "manifest.json", "", limits);
    if (!manifest) return make_error(manifest.error().message);
    if (!manifest->is_array() || manifest->empty()) return make_error("manifest.json: no images");
    const json* pick = manifest->size() == 1 && tag.empty() ? &(*manifest)[0] : nullptr;
    std::string known;
    for (const auto& image : *manifest) {
      if (!image.is_object() || !image.contains("RepoTags") || !image["RepoTags"].is_array()) continue;
      for (const auto& t : image["RepoTags"]) {
        if (!t.is_string()) continue;
        const std::string s = t.get<std::string>();
        known += (known.empty() ? "" : ", ") + printable(s);
        if (!tag.empty() && (s == tag || s.ends_with(":" + tag))) pick = &image;
      }
    }
    if (pick == nullptr)
      return make_error(tag.empty() ? fmt::format("manifest.json holds {} images: name one as PATH:TAG (tags: {})",
                                                  manifest->size(), known)
                                    : "no image tagged \"" + printable(tag) + "\" in manifest.json (tags: " + known + ")");
    if (!field(*pick, "Layers").is_array()) return make_error("manifest.json: no Layers list");
    Manifest out;
    out.name = "manifest.json";
    if (const json& tags = field(*pick, "RepoTags"); tags.is_array() && !tags.empty() && tags[0].is_string())
      out.name = tags[0].get<std::string>();
    // The config's diff_ids are the digests of the uncompressed layers: a
    // docker-archive stores them uncompressed, so they check the blobs.
    std::vector<std::string> diff_ids;
    if (const std::string config = clean_member_name(string_at(*pick, "Config")); !config.empty()) {
      if (auto c = read_json(layout, config, "", limits); c && c->is_object() && (*c)["rootfs"].is_object() &&
                                                          (*c)["rootfs"]["diff_ids"].is_array())
        for (const auto& d : (*c)["rootfs"]["diff_ids"]) diff_ids.push_back(d.is_string() ? d.get<std::string>() : "");
    }
    size_t i = 0;
    for (const auto& l : field(*pick, "Layers")) {
      const std::string blob = l.is_string() ? clean_member_name(l.get<std::string>()) : std::string();
      const std::string digest = i < diff_ids.size() ? diff_ids[i] : std::string();
      ++i;
      out.layers.push_back({blob, digest, fmt::format("layer {} ({})", i, printable(blob)), true});
    }
    return out;
  }
  return make_error("not a container image: neither index.json nor manifest.json");
}

// ---- Reading one layer ------------------------------------------------------

// The bytes of one file in a layer, as much as the scan needs.
struct Content {
  FileScan scan;     // with device code, problems or notes; path: the entry's name
  bool scanned = false;
  std::unique_ptr<ZipScan> zip;  // a wheel or zip: its members (scanned as scan_paths scans one)
  std::string text;  // RECORD, METADATA or torch/version.py, kept whole
};

struct Op {
  enum Kind : uint8_t { kFile, kDir, kSymlink, kHardlink, kWhiteout, kOpaque, kOther } kind;
  std::vector<std::string> path;  // components under the root
  std::string link;               // symlink target as written; hard link: its target's path, cleaned
  std::shared_ptr<Content> content;
};

struct LayerResult {
  std::vector<Op> ops;
  std::vector<std::string> problems;
  uint64_t peak = 0;
  bool read = false;  // some of it could be read
};

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

// A layer entry's name as components: "./usr/lib/x.so" -> {usr, lib, x.so}.
// Absolute names and ".." are refused: an entry must land inside the root.
Result<std::vector<std::string>> entry_components(std::string_view name) {
  if (name.starts_with("/")) return make_error("absolute path");
  std::vector<std::string> parts;
  size_t at = 0;
  while (at <= name.size()) {
    size_t slash = name.find('/', at);
    if (slash == std::string_view::npos) slash = name.size();
    std::string_view part = name.substr(at, slash - at);
    if (part == "..") return make_error("\"..\" leaves the image's root");
    if (!part.empty() && part != ".") parts.emplace_back(part);
    if (parts.size() > kMaxComponents) return make_error("more than 2048 path components");
    at = slash + 1;
  }
  return parts;
}

bool wants_text(const std::vector<std::string>& path) {
  if (path.size() < 2) return false;
  const std::string& name = path.back();
  const std::string& dir = path[path.size() - 2];
  if (dir.ends_with(".dist-info")) return name == "RECORD" || name == "METADATA";
  return dir == kTorchVersionDir && name == kTorchVersionFile;
}

bool ends_with(std::string_view s, std::string_view suffix) { return s.ends_with(suffix); }

// The whole layer: every entry as an operation on the tree, and the scan of
// every file that can hold device code.
class LayerReader {
 public:
  LayerReader(const Layout& layout, const LayerRef& ref, const ScanOptions& options, const ImageLimits& limits)
      : layout_(layout), ref_(ref), options_(options), limits_(limits), chunk_(limits.chunk) {}

  LayerResult read() {
    if (ref_.blob.empty()) {
      problem("bad descriptor: " + (ref_.digest.empty() ? std::string("no digest") : "digest " + printable(ref_.digest)));
      return std::move(result_);
    }
    auto blob = layout_.open(ref_.blob);
    if (!blob) {
      problem(blob.error().message);
      return std::move(result_);
    }
    blob_ = std::move(*blob);
    sha256_init(&hash_);
    ArchivePtr a(archive_read_new());
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
    archive_read_support_filter_gzip(a.get());
    archive_read_support_filter_zstd(a.get());
    archive_read_support_filter_none(a.get());
    if (archive_read_open(a.get(), this, nullptr, &LayerReader::read_callback, nullptr) != ARCHIVE_OK) {
      problem("not a readable tar layer: " + archive_reason(a.get()) + (blob_error_.empty() ? "" : ": " + blob_error_));
      return std::move(result_);
    }
    result_.read = true;
    size_t entries = 0;
    archive_entry* entry = nullptr;
    bool damaged = false;
    while (true) {
      int rc = archive_read_next_header(a.get(), &entry);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) {
        problem(fmt::format("damaged or truncated after {} entries: {}{}", entries, archive_reason(a.get()),
                            blob_error_.empty() ? "" : " (" + blob_error_ + ")"));
        damaged = true;
        break;
      }
      ++entries;
      if (!read_entry(a.get(), entry)) {
        damaged = true;
        break;
      }
    }
    compressed_ = archive_filter_code(a.get(), 0) != ARCHIVE_FILTER_NONE;
    if (!damaged) {
      // The tar's end is not the blob's: hash what is left, then compare.
      while (!blob_done_) {
        const void* ignored;
        if (read_callback(a.get(), this, &ignored) < 0) break;
      }
      check_digest();
    }
    return std::move(result_);
  }

 private:
  static la_ssize_t read_callback(archive*, void* self_ptr, const void** buffer) {
    auto* self = static_cast<LayerReader*>(self_ptr);
    if (self->blob_done_) return 0;
    auto bytes = self->blob_->next();
    if (!bytes) {
      self->blob_error_ = bytes.error().message;
      self->blob_done_ = true;
      return -1;
    }
    if (bytes->size() == 0) self->blob_done_ = true;
    sha256_update(&self->hash_, bytes->size(), bytes->data());
    self->blob_size_ += bytes->size();
    *buffer = bytes->data();
    return static_cast<la_ssize_t>(bytes->size());
  }

  void check_digest() {
    if (ref_.digest.empty() || (ref_.digest_of_tar && compressed_)) return;
    if (!ref_.digest.starts_with("sha256:")) {
      result_.problems.push_back(fmt::format("{}: digest {} not checked (only sha256 is)", ref_.label,
                                             printable(ref_.digest)));
      return;
    }
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_digest(&hash_, sizeof digest, digest);
    const std::string got = "sha256:" + hex(digest, sizeof digest);
    if (got != ref_.digest) problem("digest mismatch: the manifest says " + printable(ref_.digest) + ", the blob is " + got);
  }

  void problem(const std::string& what) { result_.problems.push_back(ref_.label + ": " + what); }

  // An entry's name as UTF-8 where the tar says it is (pax headers), else its
  // bytes as stored: never dropped because smscan runs in the C locale.
  static const char* name_of(const char* utf8, const char* stored) { return utf8 != nullptr ? utf8 : stored; }

  // Returns false when the layer cannot be read on.
  bool read_entry(archive* a, archive_entry* entry) {
    const char* raw = name_of(archive_entry_pathname_utf8(entry), archive_entry_pathname(entry));
    const std::string name = member_label(raw != nullptr ? raw : "");
    auto parts = entry_components(raw != nullptr ? raw : "");
    if (!parts) {
      problem(name + ": " + parts.error().message + ": skipped");
      return true;
    }
    if (parts->empty()) return true;  // the root itself
    Op op{Op::kOther, std::move(*parts), {}, nullptr};
    const std::string base = op.path.back();
    if (base.starts_with(".wh.")) {
      op.path.pop_back();
      if (base == ".wh..wh..opq") {
        op.kind = Op::kOpaque;
      } else if (base.starts_with(".wh..wh.")) {
        return true;  // aufs bookkeeping (.wh..wh.plnk): not part of the tree
      } else {
        const std::string target = base.substr(4);
        if (target.empty() || target == "." || target == ".." || target.find('/') != std::string::npos) {
          problem(name + ": whiteout outside the root: skipped");
          return true;
        }
        op.kind = Op::kWhiteout;
        op.path.push_back(target);
      }
      result_.ops.push_back(std::move(op));
      return true;
    }
    if (const char* hard = name_of(archive_entry_hardlink_utf8(entry), archive_entry_hardlink(entry)); hard != nullptr) {
      auto target = entry_components(hard);
      if (!target || target->empty()) {
        problem(name + ": hard link to " + member_label(hard) + ": " +
                (target ? std::string("the root") : target.error().message) + ": skipped");
        return true;
      }
      op.kind = Op::kHardlink;
      op.link = join(*target);
      result_.ops.push_back(std::move(op));
      return true;
    }
    switch (archive_entry_filetype(entry)) {
      case AE_IFDIR: op.kind = Op::kDir; break;
      case AE_IFLNK:
        op.kind = Op::kSymlink;
        if (const char* link = name_of(archive_entry_symlink_utf8(entry), archive_entry_symlink(entry))) op.link = link;
        break;
      case AE_IFREG: {
        op.kind = Op::kFile;
        op.content = std::make_shared<Content>();
        if (!read_file(a, entry, join(op.path), op)) return false;
        break;
      }
      default: op.kind = Op::kOther; break;
    }
    result_.ops.push_back(std::move(op));
    return true;
  }

  // Reads a regular file's bytes as far as the scan needs them (libarchive
  // skips the rest on the next header). False when the layer broke off.
  bool read_file(archive* a, archive_entry* entry, const std::string& path, Op& op) {
    Content& content = *op.content;
    const bool declared_known = archive_entry_size_is_set(entry);
    const uint64_t declared = declared_known ? static_cast<uint64_t>(archive_entry_size(entry)) : 0;
    uint64_t read_bytes = 0;
    bool failed = false;
    auto read_some = [&](uint8_t* buf, size_t want) -> ssize_t {
      la_ssize_t got = archive_read_data(a, buf, want);
      if (got < 0) {
        problem(fmt::format("{}: cannot read: {}{}", printable(path), archive_reason(a),
                            blob_error_.empty() ? "" : " (" + blob_error_ + ")"));
        failed = true;
        return -1;
      }
      read_bytes += static_cast<uint64_t>(got);
      return static_cast<ssize_t>(got);
    };
    std::vector<uint8_t> head;
    while (head.size() < sizeof(Elf64_Ehdr)) {
      ssize_t got = read_some(chunk_.data(), std::min(chunk_.size(), sizeof(Elf64_Ehdr) - head.size()));
      if (got <= 0) break;
      head.insert(head.end(), chunk_.begin(), chunk_.begin() + got);
    }
    if (failed) return false;
    if (wants_text(op.path)) {
      if (declared > limits_.max_text) {
        problem(fmt::format("{}: {} bytes, over the {} MiB read of such a file; not read", printable(path), declared,
                            limits_.max_text / kMiB));
        return true;
      }
      std::string& text = content.text;
      text.assign(head.begin(), head.end());
      for (ssize_t got; (got = read_some(chunk_.data(), chunk_.size())) > 0;) {
        text.append(reinterpret_cast<const char*>(chunk_.data()), static_cast<size_t>(got));
        if (text.size() > limits_.max_text) break;
      }
      return !failed;
    }
    const ByteKind kind = identify(ByteView(head.data(), head.size()));
    // Zips by content or by name, as scan_paths takes them (a damaged .whl
    // is an error, not a file without device code).
    if (kind == ByteKind::kZip || is_zip_path(path)) {
      content.scanned = true;
      bool head_given = false;
      ZipSource next = [&]() -> Result<ByteView> {
        if (!head_given) {
          head_given = true;
          if (!head.empty()) return ByteView(head.data(), head.size());
        }
        const ssize_t got = read_some(chunk_.data(), chunk_.size());
        if (got < 0) return make_error("the layer broke off: " + archive_reason(a));
        return ByteView(chunk_.data(), static_cast<size_t>(got));
      };
      content.zip = std::make_unique<ZipScan>(scan_zip_stream(path, declared, next, options_, zip_limits()));
      if (failed) return false;
      result_.peak = std::max<uint64_t>(result_.peak, content.zip->peak_buffer + chunk_.size());
      return true;
    }
    const bool candidate = kind != ByteKind::kOther && kind != ByteKind::kZip;
    if (!candidate && !(kind == ByteKind::kOther && ends_with(path, ".ptx"))) return true;
    FileScan& scan = content.scan;
    scan.path = path;
    content.scanned = true;
    const bool stream = kind == ByteKind::kHostElf && (!declared_known || declared > limits_.stream_above);
    if (stream) {
      ElfStream elf(options_, StreamLimits{limits_.max_container, limits_.max_section_names}, scan);
      elf.feed(head.data(), head.size());
      for (ssize_t got; (got = read_some(chunk_.data(), chunk_.size())) > 0;)
        elf.feed(chunk_.data(), static_cast<size_t>(got));
      if (failed) return false;
      elf.finish(read_bytes);
      scan.format = FileFormat::kHostElf;
      result_.peak = std::max(result_.peak, elf.peak() + chunk_.size());
    } else {
      if (declared_known && declared > limits_.max_buffered) {
        scan.problems.push_back(fmt::format("{} bytes, over the {} MiB that a file other than a shared library may "
                                            "take in memory; not read",
                                            declared, limits_.max_buffered / kMiB));
        return true;
      }
      std::vector<uint8_t> bytes = std::move(head);
      if (declared_known) bytes.reserve(static_cast<size_t>(declared));
      for (ssize_t got; (got = read_some(chunk_.data(), chunk_.size())) > 0;) {
        if (bytes.size() + static_cast<size_t>(got) > limits_.max_buffered) {
          scan.problems.push_back(fmt::format("over the {} MiB that a file may take in memory; not read",
                                              limits_.max_buffered / kMiB));
          return true;
        }
        bytes.insert(bytes.end(), chunk_.begin(), chunk_.begin() + got);
      }
      if (failed) return false;
      result_.peak = std::max<uint64_t>(result_.peak, bytes.capacity() + chunk_.size());
      scan = scan_bytes(ByteView(bytes.data(), bytes.size()), path, options_);
    }
    scan.size = read_bytes;
    return true;
  }

  // A wheel's members take what a layer's files take; its totals are ZipLimits'.
  ZipLimits zip_limits() const {
    ZipLimits z;
    z.max_buffered = limits_.max_buffered;
    z.stream_above = limits_.stream_above;
    z.max_container = limits_.max_container;
    z.max_section_names = limits_.max_section_names;
    z.chunk = limits_.chunk;
    return z;
  }

  const Layout& layout_;
  const LayerRef& ref_;
  const ScanOptions& options_;
  const ImageLimits& limits_;
  std::vector<uint8_t> chunk_;
  std::unique_ptr<BlobStream> blob_;
  std::string blob_error_;
  bool blob_done_ = false;
  bool compressed_ = false;
  uint64_t blob_size_ = 0;
  sha256_ctx hash_{};
  LayerResult result_;
};

// ---- The tree the layers build ----------------------------------------------

struct Node {
  enum Type : uint8_t { kDir, kFile, kSymlink, kOther } type = kDir;
  size_t layer = 0;
  std::map<std::string, std::unique_ptr<Node>> children;  // sorted as the tree walk sorts
  std::string link;                                       // symlink target
  std::shared_ptr<Content> content;                       // shared by hard links: one file
};

// A place in the tree: the directories from the root down, with their names.
struct Place {
  std::vector<std::pair<std::string, Node*>> stack;  // stack[0] is the root, name ""
  Node* node() const { return stack.back().second; }
  std::string path() const {
    std::string out;
    for (size_t i = 1; i < stack.size(); ++i) out += "/" + stack[i].first;
    return out.empty() ? "/" : out;
  }
};

class Tree {
 public:
  Tree() { root_.type = Node::kDir; }
  Node* root() { return &root_; }

  // Follows `path` (symlink text or components) from `from`, as the kernel
  // does inside a chroot: ".." at the root stays there, absolute links start
  // at the root. `follow_last`: the last component is followed if a symlink.
  // Missing components: nothing, with `missing` set; loops: an error.
  Result<Place> resolve(Place from, const std::vector<std::string>& parts, bool follow_last, int& hops,
                        bool* missing = nullptr) {
    Place at = std::move(from);
    for (size_t i = 0; i < parts.size(); ++i) {
      const std::string& part = parts[i];
      if (part.empty() || part == ".") continue;
      if (part == "..") {
        if (at.stack.size() > 1) at.stack.pop_back();
        continue;
      }
      Node* dir = at.node();
      if (dir->type != Node::kDir) {
        if (missing) *missing = true;
        return make_error(at.path() + " is not a directory");
      }
      auto it = dir->children.find(part);
      if (it == dir->children.end()) {
        if (missing) *missing = true;
        return make_error(at.path() + (at.stack.size() > 1 ? "/" : "") + part + " does not exist");
      }
      Node* child = it->second.get();
      const bool last = i + 1 == parts.size();
      if (child->type == Node::kSymlink && (!last || follow_last)) {
        if (++hops > kMaxSymlinks) return make_error("symlink loop");
        Place base = at;
        if (child->link.starts_with("/")) base.stack.resize(1);
        auto target = resolve(std::move(base), split(child->link), true, hops, missing);
        if (!target) return target;
        at = std::move(*target);
        continue;
      }
      at.stack.emplace_back(part, child);
    }
    return at;
  }

  Place root_place() { return Place{{{"", &root_}}}; }

  static std::vector<std::string> split(std::string_view text) {
    std::vector<std::string> parts;
    size_t at = 0;
    while (at <= text.size()) {
      size_t slash = text.find('/', at);
      if (slash == std::string_view::npos) slash = text.size();
      if (slash > at) parts.emplace_back(text.substr(at, slash - at));
      at = slash + 1;
    }
    return parts;
  }

  // Applies one layer's operations in order (layer numbers from 1).
  void apply(const LayerResult& layer, size_t number, const std::string& label, std::vector<std::string>& problems) {
    for (const Op& op : layer.ops) {
      // The parent: intermediate components are followed through symlinks and
      // made as directories when missing, as an unpacker does.
      Node* parent = &root_;
      Place place = root_place();
      bool ok = true;
      for (size_t i = 0; i + 1 < op.path.size(); ++i) {
        Node* dir = place.node();
        auto it = dir->children.find(op.path[i]);
        if (it == dir->children.end() || it->second->type == Node::kFile || it->second->type == Node::kOther) {
          if (op.kind == Op::kWhiteout || op.kind == Op::kOpaque) {
            ok = false;  // nothing to delete
            break;
          }
          auto made = std::make_unique<Node>();
          made->layer = number;
          Node* raw = made.get();
          dir->children[op.path[i]] = std::move(made);
          place.stack.emplace_back(op.path[i], raw);
          continue;
        }
        if (it->second->type == Node::kSymlink) {
          int hops = 0;
          auto target = resolve(place, {op.path[i]}, true, hops);
          if (!target || target->node()->type != Node::kDir) {
            problems.push_back(fmt::format("{}: {}: its directory {} is a symlink that {}: skipped", label,
                                           printable(join(op.path)), printable(place.path() + "/" + op.path[i]),
                                           target ? "leads to a file" : "cannot be followed (" + target.error().message + ")"));
            ok = false;
            break;
          }
          place = std::move(*target);
          continue;
        }
        place.stack.emplace_back(op.path[i], it->second.get());
      }
      if (!ok) continue;
      parent = place.node();
      if (op.path.empty()) {  // "./.wh..wh..opq": the root is opaque
        if (op.kind == Op::kOpaque) purge_lower(root_, number);
        continue;
      }
      const std::string& name = op.path.back();
      auto existing = parent->children.find(name);
      switch (op.kind) {
        case Op::kOpaque:
          // The directory itself is `op.path`: its lower layers' entries go.
          if (existing != parent->children.end() && existing->second->type == Node::kDir)
            purge_lower(*existing->second, number);
          break;
        case Op::kWhiteout:
          if (existing != parent->children.end() && existing->second->layer < number) parent->children.erase(existing);
          break;
        case Op::kDir:
          if (existing != parent->children.end() && existing->second->type == Node::kDir) {
            existing->second->layer = number;
          } else {
            auto dir = std::make_unique<Node>();
            dir->layer = number;
            parent->children[name] = std::move(dir);
          }
          break;
        case Op::kFile:
        case Op::kSymlink:
        case Op::kOther: {
          auto node = std::make_unique<Node>();
          node->type = op.kind == Op::kFile ? Node::kFile : op.kind == Op::kSymlink ? Node::kSymlink : Node::kOther;
          node->layer = number;
          node->link = op.link;
          node->content = op.content;
          parent->children[name] = std::move(node);
          break;
        }
        case Op::kHardlink: {
          int hops = 0;
          auto target = resolve(root_place(), split(op.link), false, hops);
          if (!target || target->node()->type == Node::kDir || target->stack.size() < 2) {
            problems.push_back(fmt::format("{}: {}: hard link to {}: {}: skipped", label, printable(join(op.path)),
                                           printable(op.link),
                                           target ? "not a file" : target.error().message));
            break;
          }
          const Node* t = target->node();
          auto node = std::make_unique<Node>();
          node->type = t->type;
          node->layer = number;
          node->link = t->link;
          node->content = t->content;  // one file under two names
          parent->children[name] = std::move(node);
          break;
        }
      }
    }
  }

 private:
  static void purge_lower(Node& dir, size_t number) {
    for (auto it = dir.children.begin(); it != dir.children.end();) {
      if (it->second->layer < number) {
        it = dir.children.erase(it);
      } else {
        if (it->second->type == Node::kDir) purge_lower(*it->second, number);
        ++it;
      }
    }
  }

  Node root_;
};

// ---- Walking the final tree as scan_paths walks a directory -------------------

// CUDA runtime and toolkit libraries, by the stem of their file name
// (lib<stem>.so.<version>). Source: the components of NVIDIA's CUDA 12.8 and
// 13.0 redistributables (developer.download.nvidia.com/compute/cuda/redist/
// redistrib_*.json), cuDNN's and NCCL's own, and the nvidia-*-cu12 wheels.
struct CudaComponent {
  std::string_view stem, component;
};
constexpr CudaComponent kCudaComponents[] = {
    {"cudart", "CUDA runtime"},   {"cublas", "cuBLAS"},         {"cublasLt", "cuBLASLt"},
    {"cufft", "cuFFT"},           {"cufftw", "cuFFTW"},         {"curand", "cuRAND"},
    {"cusolver", "cuSOLVER"},     {"cusolverMg", "cuSOLVERMg"}, {"cusparse", "cuSPARSE"},
    {"cusparseLt", "cuSPARSELt"}, {"nvrtc", "NVRTC"},           {"nvJitLink", "nvJitLink"},
    {"cupti", "CUPTI"},           {"nvToolsExt", "NVTX"},       {"cufile", "cuFile"},
    {"cudnn", "cuDNN"},           {"nccl", "NCCL"},             {"nvshmem_host", "NVSHMEM"},
    {"nvjpeg", "nvJPEG"},         {"npps", "NPP"},              {"cuda", "CUDA driver (belongs to the host, not the image)"},
};

std::optional<CudaLibrary> cuda_library(const std::string& real_path) {
  const std::string name = real_path.substr(real_path.rfind('/') + 1);
  const size_t so = name.find(".so");
  if (!name.starts_with("lib") || so == std::string::npos) return std::nullopt;
  const std::string_view stem = std::string_view(name).substr(3, so - 3);
  for (const auto& c : kCudaComponents) {
    if (c.stem != stem) continue;
    CudaLibrary lib;
    lib.path = real_path;
    lib.component = std::string(c.component);
    if (name.size() > so + 4 && name[so + 3] == '.') lib.version = name.substr(so + 4);
    return lib;
  }
  return std::nullopt;
}

struct Listed {
  std::string path, real_path;  // as walked, and with symlinks resolved
  const Content* content;
};

class Walk {
 public:
  Walk(Tree& tree, std::vector<std::string>& problems) : tree_(tree), problems_(problems) {}

  std::vector<Listed> files;
  std::vector<Place> site_dirs;
  std::vector<FileScan> dangling;  // symlinks whose target is not in the image: a note each

  void run() { visit_dir(tree_.root_place(), "/", 0); }

 private:
  // A directory at `real` (its place), shown as `shown`.
  void visit_dir(const Place& real, const std::string& shown, size_t depth) {
    if (depth > kMaxWalkDepth) {
      problems_.push_back(printable(shown) + ": directories nested more than 4096 deep (through symlinks): not read");
      return;
    }
    if (!seen_dirs_.insert(real.node()).second) return;
    const std::string& name = real.stack.back().first;
    if ((name == "site-packages" || name == "dist-packages") && has_dist_info(*real.node())) site_dirs.push_back(real);
    for (const auto& [child_name, child] : real.node()->children) {
      const std::string path = (shown == "/" ? "" : shown) + "/" + child_name;
      Place place = real;
      if (child->type == Node::kSymlink) {
        int hops = 0;
        bool missing = false;
        auto target = tree_.resolve(real, {child_name}, true, hops, &missing);
        if (!target) {
          // A loop is damage; a dangling link is not (it may point at /proc
          // or at the driver the host mounts in), but it is said, as a note.
          const std::string arrow = "(-> " + printable(child->link) + ")";
          if (!missing) {
            problems_.push_back(fmt::format("{}: {} {}: not scanned", printable(path), target.error().message, arrow));
          } else {
            FileScan note;
            note.path = path;
            note.notes.push_back(fmt::format("dangling symlink {}: {} in the image; not scanned", arrow,
                                             target.error().message));
            dangling.push_back(std::move(note));
          }
          continue;
        }
        place = std::move(*target);
      } else {
        place.stack.emplace_back(child_name, child.get());
      }
      Node* node = place.node();
      if (node->type == Node::kDir) {
        visit_dir(place, path, depth + 1);
      } else if (node->type == Node::kFile && node->content) {
        if (!seen_files_.insert(node->content.get()).second) continue;  // another name of one file
        files.push_back({path, place.path(), node->content.get()});
      }
    }
  }

  static bool has_dist_info(const Node& dir) {
    for (const auto& [n, c] : dir.children)
      if (n.ends_with(".dist-info") && c->type == Node::kDir) return true;
    return false;
  }

  Tree& tree_;
  std::vector<std::string>& problems_;
  std::set<const Node*> seen_dirs_;
  std::set<const Content*> seen_files_;
};

// The text of a file at `place` + `parts`, if kept.
const std::string* text_at(Tree& tree, const Place& place, const std::vector<std::string>& parts) {
  int hops = 0;
  auto found = tree.resolve(place, parts, true, hops);
  if (!found || found->node()->type != Node::kFile || !found->node()->content) return nullptr;
  return &found->node()->content->text;
}


}  // namespace

bool looks_like_image(const std::string& spec) {
  struct stat st {};
  std::string path = spec;
  if (::stat(path.c_str(), &st) != 0) {
    const size_t colon = spec.rfind(':');
    if (colon == std::string::npos) return false;
    path = spec.substr(0, colon);
    if (::stat(path.c_str(), &st) != 0) return false;
  }
  if (S_ISDIR(st.st_mode)) return ::access((path + "/oci-layout").c_str(), F_OK) == 0;
  if (!S_ISREG(st.st_mode)) return false;
  // A tar (ustar magic at 257) holding manifest.json or index.json.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return false;
  char magic[5] = {};
  const bool tar = ::pread(fd, magic, sizeof magic, 257) == sizeof magic && std::memcmp(magic, "ustar", 5) == 0;
  ::close(fd);
  if (!tar) return false;
  Layout layout(path, false, 1 << 16);
  return layout.has("manifest.json") || layout.has("index.json");
}

ImageScan scan_image(const std::string& spec, const ScanOptions& options, unsigned threads,
                     const ImageLimits& limits) {
  ImageScan out;
  out.summary.name = spec;
  // PATH, or PATH:TAG when PATH alone names nothing.
  std::string path = spec, tag;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const size_t colon = spec.rfind(':');
    if (colon != std::string::npos && ::stat(spec.substr(0, colon).c_str(), &st) == 0) {
      path = spec.substr(0, colon);
      tag = spec.substr(colon + 1);
    } else {
      out.read_error = std::string("cannot stat: ") + std::strerror(errno);
      return out;
    }
  }
  Layout layout(path, S_ISDIR(st.st_mode), limits.chunk);
  auto manifest = choose_manifest(layout, tag, limits);
  if (!manifest) {
    out.read_error = manifest.error().message;
    return out;
  }
  out.summary.manifest = manifest->name;
  out.summary.layers = manifest->layers.size();

  // Layers are read at once, one per thread; they are applied in order.
  const size_t count = manifest->layers.size();
  std::vector<LayerResult> layers(count);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < count;)
      layers[i] = LayerReader(layout, manifest->layers[i], options, limits).read();
  };
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::min<size_t>(threads, count); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();

  Tree tree;
  size_t readable = 0;
  for (size_t i = 0; i < count; ++i) {
    for (auto& p : layers[i].problems) out.problems.push_back(std::move(p));
    readable += layers[i].read;
    out.peak_buffer = std::max(out.peak_buffer, layers[i].peak);
    tree.apply(layers[i], i + 1, manifest->layers[i].label, out.problems);
    layers[i].ops.clear();
  }
  if (count > 0 && readable == 0) {
    out.read_error = "no layer could be read";
    return out;
  }

  Walk walk(tree, out.problems);
  walk.run();

  // Distributions: each site directory's *.dist-info, their RECORD paths
  // resolved inside the image.
  std::map<std::string, size_t> owner;  // real path -> index into dists
  std::vector<Distribution> dists;
  for (const Place& site : walk.site_dirs) {
    out.summary.site_dirs.push_back(site.path());
    for (const auto& [name, node] : site.node()->children) {
      if (!name.ends_with(".dist-info") || node->type != Node::kDir) continue;
      const std::string* metadata = text_at(tree, site, {name, "METADATA"});
      const std::string* record = text_at(tree, site, {name, "RECORD"});
      if (record == nullptr) {
        out.problems.push_back(printable(site.path() + "/" + name) +
                               ": no RECORD file; its files are not attributed to a package");
        continue;
      }
      const size_t index = dists.size();
      dists.push_back(parse_metadata(metadata ? *metadata : std::string(), name));
      for (const auto& rel : record_paths(*record)) {
        int hops = 0;
        auto real = tree.resolve(site, Tree::split(rel), true, hops);
        if (real) owner.emplace(real->path(), index);
      }
      if (dists.back().name == "torch" || dists.back().name == "Torch") {
        out.summary.torch_version = dists.back().version;
        if (const std::string* v = text_at(tree, site, {std::string(kTorchVersionDir), std::string(kTorchVersionFile)}))
          out.summary.torch_cuda = torch_cuda_of_version_py(*v);
        if (out.summary.torch_cuda.empty())
          if (size_t cu = out.summary.torch_version.find("+cu");
              cu != std::string::npos && out.summary.torch_version.size() > cu + 5) {
            const std::string digits = out.summary.torch_version.substr(cu + 3);
            out.summary.torch_cuda = digits.substr(0, digits.size() - 1) + "." + digits.back();
          }
      }
    }
  }
  out.summary.distributions = dists.size();
  std::vector<std::vector<std::string>> owned(dists.size());
  for (const Listed& f : walk.files) {
    auto it = owner.find(f.real_path);
    if (auto lib = cuda_library(f.real_path)) {
      if (it != owner.end()) lib->package = dists[it->second].name + " " + dists[it->second].version;
      out.summary.cuda_libraries.push_back(std::move(*lib));
    }
    if (!f.content->scanned) {
      ++out.tree.files_without_device_code;
      continue;
    }
    if (const ZipScan* zip = f.content->zip.get()) {  // its members, named "<path>!<member>", as scan_paths lists them
      out.tree.files_without_device_code += zip->members_without_device_code;
      if (!zip->self.read_error.empty() || !zip->self.problems.empty() || !zip->self.notes.empty()) {
        FileScan self = zip->self;
        self.path = f.path;
        out.tree.files.push_back(std::move(self));
      }
      for (const FileScan& member : zip->members) {
        FileScan scan = member;
        scan.path = f.path + "!" + member.zip_member;
        scan.zip_path = f.path;
        out.tree.files.push_back(std::move(scan));
      }
      continue;
    }
    FileScan scan = f.content->scan;
    scan.path = f.path;
    if (!scan.has_device_code() && scan.read_error.empty() && scan.problems.empty() && scan.members.empty() &&
        scan.notes.empty()) {
      ++out.tree.files_without_device_code;
      continue;
    }
    if (it != owner.end() && scan.has_device_code()) owned[it->second].push_back(f.path);
    out.tree.files.push_back(std::move(scan));
  }
  for (auto& note : walk.dangling) out.tree.files.push_back(std::move(note));
  for (size_t i = 0; i < dists.size(); ++i) out.packages.add_distribution(dists[i], owned[i]);
  std::sort(out.summary.cuda_libraries.begin(), out.summary.cuda_libraries.end(),
            [](const CudaLibrary& a, const CudaLibrary& b) { return a.path < b.path; });
  std::stable_sort(out.tree.files.begin(), out.tree.files.end(),
                   [](const FileScan& a, const FileScan& b) { return a.path < b.path; });
  return out;
}

}  // namespace smwatch
