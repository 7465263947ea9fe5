#include "xdp/umem.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

namespace xnet::xdp {

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
  // Anonymous and populated up front: the kernel pins it at registration
  // anyway, and the data path should never take a page fault.
  void* p = mmap(nullptr, u->size_, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) {
    return errno_error(errno, "mmap of a " + std::to_string(u->size_) +
                                  "-byte UMEM failed: " + std::strerror(errno));
  }
  u->base_ = static_cast<std::byte*>(p);
  u->pool_ = std::make_unique<stack::FramePool>(u->region(), config.frame_size);
  return u;
}

Umem::~Umem() {
  pool_.reset();  // the pool borrows the region: it goes first
  if (base_ != nullptr) munmap(base_, size_);
}

}  // namespace xnet::xdp
