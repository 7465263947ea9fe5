#include "runtime/frame_cache.h"

#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define XNET_FRAME_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XNET_FRAME_CACHE 0
#endif
#endif
#ifndef XNET_FRAME_CACHE
#define XNET_FRAME_CACHE 1
#endif

namespace xnet::rt::detail {
namespace {

constexpr std::size_t kClasses = kMaxCachedFrame / kFrameClassBytes;

struct FreeFrame {
  FreeFrame* next;
};

// Zero-initialised; its destructor (registered at the thread's first use)
// returns what the thread still holds when it exits.
struct FrameLists {
  FreeFrame* head[kClasses] = {};
  std::size_t count[kClasses] = {};
  bool gone = false;  // a frame freed later in the thread's exit goes to the heap
  ~FrameLists() {
    gone = true;
    for (std::size_t c = 0; c < kClasses; ++c) {
      while (FreeFrame* f = head[c]) {
        head[c] = f->next;
        ::operator delete(f);
      }
      count[c] = 0;
    }
  }
};

thread_local FrameLists tl_lists;

// Class c holds frames of (c + 1) * 64 bytes. Frames go back through the
// unsized ::operator delete: clang 14 declares the sized one only with
// -fsized-deallocation.
constexpr std::size_t class_of(std::size_t bytes) { return (bytes - 1) / kFrameClassBytes; }

}  // namespace

void* alloc_frame(std::size_t bytes) {
  if (XNET_FRAME_CACHE && bytes != 0 && bytes <= kMaxCachedFrame) {
    const std::size_t c = class_of(bytes);
    FrameLists& l = tl_lists;
    if (FreeFrame* f = l.head[c]) {
      l.head[c] = f->next;
      --l.count[c];
      return f;
    }
    return ::operator new((c + 1) * kFrameClassBytes);
  }
  return ::operator new(bytes);
}

void free_frame(void* p, std::size_t bytes) noexcept {
  if (XNET_FRAME_CACHE && bytes != 0 && bytes <= kMaxCachedFrame) {
    const std::size_t c = class_of(bytes);
    FrameLists& l = tl_lists;
    if (l.count[c] < kFramesPerClass && !l.gone) {
      l.head[c] = new (p) FreeFrame{l.head[c]};
      ++l.count[c];
      return;
    }
    ::operator delete(p);
    return;
  }
  ::operator delete(p);
}

std::size_t cached_frames() noexcept {
  std::size_t n = 0;
  for (std::size_t c : tl_lists.count) n += c;
  return n;
}

bool frame_cache_enabled() noexcept { return XNET_FRAME_CACHE != 0; }

}  // namespace xnet::rt::detail
