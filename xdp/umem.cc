#include "xdp/umem.h"

#include <sys/mman.h>
#include <sys/prctl.h>

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace xnet::xdp {

namespace {

constexpr size_t kHugePage = size_t{2} << 20;

struct Region {
  void* base;
  size_t size;
};

// Anonymous, populated up front (the kernel pins it at registration anyway,
// and the data path should never take a page fault). With `huge`: aligned
// to and rounded up to 2 MiB, advised MADV_HUGEPAGE before the first touch,
// so the faults that populate it can take whole huge pages.
XdpResult<Region> map_region(size_t size, bool huge) {
  auto failed = [size](int err) {
    return errno_error(err, "mmap of a " + std::to_string(size) + "-byte UMEM failed: " + std::strerror(err));
  };
  if (!huge) {
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) return failed(errno);
    (void)madvise(p, size, MADV_DONTFORK);  // below
    return Region{p, size};
  }
  const size_t rounded = (size + kHugePage - 1) / kHugePage * kHugePage;
  // Over-map by one huge page and trim both ends to an aligned start.
  const size_t over = rounded + kHugePage;
  void* raw = mmap(nullptr, over, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return failed(errno);
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned > start) munmap(raw, aligned - start);
  if (const size_t tail = start + over - (aligned + rounded); tail > 0) {
    munmap(reinterpret_cast<void*>(aligned + rounded), tail);
  }
  void* p = reinterpret_cast<void*>(aligned);
  // EINVAL: a kernel without THP; the region still works on small pages,
  // and huge_page_bytes() reports 0.
  (void)madvise(p, rounded, MADV_HUGEPAGE);
  // Not inherited by children (fork + exec of `ip`, `ethtool`...): pages the
  // kernel has pinned are copied for a child at fork, and a huge page mapped
  // into both is split for it — one fork left the UMEM on small pages.
  (void)madvise(p, rounded, MADV_DONTFORK);
  if (madvise(p, rounded, MADV_POPULATE_WRITE) != 0) {
    const int err = errno;
    if (err != EINVAL) {
      munmap(p, rounded);
      return failed(err);
    }
    // Before Linux 5.14: fault it in by hand.
    for (size_t off = 0; off < rounded; off += 4096) static_cast<volatile std::byte*>(p)[off] = std::byte{0};
  }
  return Region{p, rounded};
}

}  // namespace

std::string bracketed_mode(std::string_view line) {
  const size_t open = line.find('[');
  const size_t close = line.find(']', open);
  if (open == std::string_view::npos || close == std::string_view::npos) return {};
  return std::string(line.substr(open + 1, close - open - 1));
}

std::string transparent_huge_pages_mode() {
  // The process's own switch overrides the host's mode.
  if (prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) > 0) return "disabled for this process (PR_SET_THP_DISABLE)";
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  std::getline(f, line);
  return bracketed_mode(line);
}

XdpResult<std::unique_ptr<Umem>> Umem::create(const UmemConfig& config) {
  const uint32_t chunk = config.chunk_size == 0 ? config.frame_size : config.chunk_size;
  if (chunk != 2048 && chunk != 4096) {
    return make_error(std::errc::invalid_argument,
                      "UMEM frame size must be 2048 or 4096, not " + std::to_string(chunk));
  }
  // Packet offsets are 16-bit: a jumbo frame stays below 64 KiB.
  if (config.frame_size % chunk != 0 || config.frame_size > kMaxJumboFrame) {
    return make_error(std::errc::invalid_argument,
                      "a jumbo UMEM frame must be a multiple of " + std::to_string(chunk) +
                          " up to " + std::to_string(kMaxJumboFrame) + " bytes, not " +
                          std::to_string(config.frame_size));
  }
  if (config.frame_count == 0) {
    return make_error(std::errc::invalid_argument, "UMEM needs at least one frame");
  }
  std::unique_ptr<Umem> u(new Umem());
  u->size_ = size_t{config.frame_size} * config.frame_count;
  u->chunk_size_ = chunk;
  auto mapped = map_region(u->size_, config.huge_pages);
  if (!mapped) return mapped.take_error();
  u->map_base_ = mapped->base;
  u->map_size_ = mapped->size;
  u->base_ = static_cast<std::byte*>(mapped->base);
  u->pool_ = std::make_unique<stack::FramePool>(u->region(), config.frame_size);
  return u;
}

Umem::~Umem() {
  pool_.reset();  // the pool borrows the region: it goes first
  if (map_base_ != nullptr) munmap(map_base_, map_size_);
}

size_t Umem::huge_page_bytes() const {
  // /proc/self/smaps: the block of our mapping starts with "<start hex>-".
  std::ifstream smaps("/proc/self/smaps");
  const std::string start = fmt::format("{:x}-", reinterpret_cast<uintptr_t>(map_base_));
  bool ours = false;
  for (std::string line; std::getline(smaps, line);) {
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) && line.find('-') != std::string::npos &&
        line.find(':') > line.find('-')) {
      if (ours) break;  // the next mapping's header
      ours = line.starts_with(start);
      continue;
    }
    size_t kb = 0;
    if (ours && std::sscanf(line.c_str(), "AnonHugePages: %zu kB", &kb) == 1) return kb * 1024;
  }
  return 0;
}

}  // namespace xnet::xdp
