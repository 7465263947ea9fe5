// Throughput of the Internet checksum against a byte-pair-at-a-time loop, and
// of the fused copy+sum against memcpy followed by a separate sum.

#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "stack/wire/checksum.h"

namespace {

using xnet::wire::checksum_copy;
using xnet::wire::checksum_partial;

std::vector<std::byte> random_bytes(size_t n) {
  std::mt19937 rng(42);
  std::vector<std::byte> v(n);
  for (auto& b : v) b = static_cast<std::byte>(rng());
  return v;
}

// The textbook loop the fast one has to beat.
uint32_t bytewise_sum(const std::byte* p, size_t n) {
  uint32_t acc = 0;
  for (size_t i = 0; i + 1 < n; i += 2) {
    acc += (std::to_integer<uint32_t>(p[i]) << 8) | std::to_integer<uint32_t>(p[i + 1]);
  }
  if (n & 1) acc += std::to_integer<uint32_t>(p[n - 1]) << 8;
  return acc;
}

// The same loop kept scalar: at -O3 GCC vectorises the one above, which hides
// what a plain byte loop costs (clang has no per-function switch for it).
#if defined(__clang__)
#define XNET_NO_VECTORIZE
#else
#define XNET_NO_VECTORIZE __attribute__((optimize("no-tree-vectorize")))
#endif
XNET_NO_VECTORIZE uint32_t bytewise_sum_scalar(const std::byte* p,
                                                                            size_t n) {
  uint32_t acc = 0;
  for (size_t i = 0; i + 1 < n; i += 2) {
    acc += (std::to_integer<uint32_t>(p[i]) << 8) | std::to_integer<uint32_t>(p[i + 1]);
  }
  if (n & 1) acc += std::to_integer<uint32_t>(p[n - 1]) << 8;
  return acc;
}

void set_bytes(benchmark::State& state) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

void BM_ChecksumPartial(benchmark::State& state) {
  const auto buf = random_bytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf.data());
    benchmark::DoNotOptimize(checksum_partial(buf));
  }
  set_bytes(state);
}

void BM_Bytewise(benchmark::State& state) {
  const auto buf = random_bytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf.data());
    benchmark::DoNotOptimize(bytewise_sum(buf.data(), buf.size()));
  }
  set_bytes(state);
}

void BM_BytewiseScalar(benchmark::State& state) {
  const auto buf = random_bytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf.data());
    benchmark::DoNotOptimize(bytewise_sum_scalar(buf.data(), buf.size()));
  }
  set_bytes(state);
}

void BM_ChecksumCopy(benchmark::State& state) {
  const auto src = random_bytes(static_cast<size_t>(state.range(0)));
  std::vector<std::byte> dst(src.size());
  for (auto _ : state) {
    benchmark::DoNotOptimize(checksum_copy(dst.data(), src.data(), src.size()));
    benchmark::ClobberMemory();
  }
  set_bytes(state);
}

void BM_MemcpyThenSum(benchmark::State& state) {
  const auto src = random_bytes(static_cast<size_t>(state.range(0)));
  std::vector<std::byte> dst(src.size());
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), src.size());
    benchmark::ClobberMemory();
    benchmark::DoNotOptimize(checksum_partial(dst));
  }
  set_bytes(state);
}

BENCHMARK(BM_ChecksumPartial)->Arg(64)->Arg(1408)->Arg(1500)->Arg(9000);
BENCHMARK(BM_Bytewise)->Arg(64)->Arg(1500)->Arg(9000);
BENCHMARK(BM_BytewiseScalar)->Arg(64)->Arg(1500)->Arg(9000);
BENCHMARK(BM_ChecksumCopy)->Arg(64)->Arg(1500)->Arg(9000);
BENCHMARK(BM_MemcpyThenSum)->Arg(64)->Arg(1500)->Arg(9000);

}  // namespace
