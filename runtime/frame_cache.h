#pragma once
// Coroutine frames recycled per thread. Every Task call allocates its frame;
// on the per-datagram path (a recv_batch per wake-up, a recv_from per round
// trip) that was a malloc and a free each time, ~3 per ping-pong round trip,
// each touching the allocator's cold code and data after the kernel's kick.
// Freed frames up to kMaxCachedFrame bytes go on a per-thread list of their
// size class and the next frame of that class takes the most recent one
// (still in cache). Each list holds at most kFramesPerClass frames; the rest,
// and larger frames, go to the heap. A frame freed on another thread joins
// that thread's lists (the memory is the heap's either way).
//
// Sanitizer builds bypass the cache so use-after-free of a frame stays
// visible to ASan.

#include <cstddef>

namespace xnet::rt::detail {

inline constexpr std::size_t kFrameClassBytes = 64;
inline constexpr std::size_t kMaxCachedFrame = 1024;
inline constexpr std::size_t kFramesPerClass = 64;

// operator new / delete of a Task's promise: the frame of `bytes` bytes.
void* alloc_frame(std::size_t bytes);
void free_frame(void* p, std::size_t bytes) noexcept;

// Frames the calling thread holds for reuse (tests), and whether recycling
// is compiled in (false under sanitizers).
std::size_t cached_frames() noexcept;
bool frame_cache_enabled() noexcept;

}  // namespace xnet::rt::detail
