#pragma once
// The Internet checksum's wide loops for x86-64 CPUs with AVX2, chosen at run
// time by checksum.cc (the build targets baseline x86-64). Each returns a
// 64-bit value congruent, modulo 0xffff, to the sum of the block's
// native-order 16-bit words: checksum.cc adds it to its own 64-bit
// accumulator with end-around carry and folds once.
//
// Only the 32-byte blocks are summed here; the caller takes the tail. On
// 1500 bytes the sum runs at about twice the rate of the add-with-carry loop
// (//benchmarks/wire:checksum_bench), which is what a 1400-byte datagram's
// receive (the UDP checksum) and send (the copy into the frame) spend most
// of their own time on.

#include <cstddef>
#include <cstdint>

namespace xnet::wire::detail {

// Whether this CPU runs the functions below (asked once, at start-up).
bool cpu_has_avx2();

// Sums the first n & ~31 bytes of p.
uint64_t sum_blocks_avx2(const std::byte* p, size_t n);

// Copies the first n & ~31 bytes of src to dst and sums them.
uint64_t copy_sum_blocks_avx2(std::byte* dst, const std::byte* src, size_t n);

// checksum_partial and checksum_copy without the AVX2 loop, whatever the
// CPU: tests hold both paths to the same answers.
uint32_t checksum_partial_scalar(const std::byte* p, size_t n, uint32_t initial);
uint32_t checksum_copy_scalar(std::byte* dst, const std::byte* src, size_t n);

}  // namespace xnet::wire::detail
