#include "xdp/umem.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

namespace xnet::xdp {

XdpResult<std::unique_ptr<Umem>> Umem::create(const UmemConfig& config) {
  if (config.frame_size != 2048 && config.frame_size != 4096) {
    return make_error(std::errc::invalid_argument,
                      "UMEM frame size must be 2048 or 4096, not " +
                          std::to_string(config.frame_size));
  }
  if (config.frame_count == 0) {
    return make_error(std::errc::invalid_argument, "UMEM needs at least one frame");
  }
  std::unique_ptr<Umem> u(new Umem());
  u->size_ = size_t{config.frame_size} * config.frame_count;
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
