#pragma once
// The steering program's ELF object, compiled into the binary (see BUILD), so a
// tool or service loads it without knowing where Bazel put the .o file.

#include <span>

namespace xnet::bpf {

std::span<const unsigned char> xnet_steer_object();

}  // namespace xnet::bpf
