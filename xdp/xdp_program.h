#pragma once
// XdpProgram: the steering program (bpf/xnet_steer.bpf.c) loaded and attached to
// one interface with libxdp, and the file descriptors of its maps. Detaches on
// destruction. Knows nothing about what the maps mean; XdpInterface does.

#include <cstdint>
#include <memory>
#include <string>

#include "xdp/error.h"

struct bpf_object;
struct xdp_program;

namespace xnet::xdp {

enum class AttachRequest {
  kNativePreferred,  // native; SKB (generic) mode only if native fails, logged
  kNativeOnly,
  kSkb,  // generic mode, when asked for
};

enum class AttachMode { kNative, kSkb };
const char* to_string(AttachMode m);

struct XdpProgramConfig {
  AttachRequest attach = AttachRequest::kNativePreferred;
  // Empty: the object embedded at build time (//bpf:xnet_steer_embedded).
  std::string object_path;
  // A program named "xnet_steer" already on the interface is a leftover of a
  // crashed xnet: replace it. Programs of any other name are never touched.
  bool replace_stale = true;
};

class XdpProgram {
 public:
  static XdpResult<std::unique_ptr<XdpProgram>> attach(uint32_t ifindex, const std::string& ifname,
                                                       const XdpProgramConfig& config);
  ~XdpProgram();
  XdpProgram(const XdpProgram&) = delete;
  XdpProgram& operator=(const XdpProgram&) = delete;

  // Idempotent. Must run in the interface's network namespace (libxdp talks
  // netlink from the calling thread).
  XdpResult<void> detach();

  // The program is still the one on the interface (a detached or replaced
  // program silently stops traffic: ROBUSTNESS case 50).
  bool is_attached() const;
  // Attaches the loaded program again after somebody detached it (ip link
  // set dev X xdp off): the maps, hence addresses and sockets, are unchanged.
  // EBUSY when another program took the interface meanwhile.
  XdpResult<void> reattach();

  AttachMode mode() const { return mode_; }
  bool uses_dispatcher() const { return dispatcher_; }
  uint32_t program_id() const { return program_id_; }
  // -1 when no such map.
  int map_fd(const char* name) const;

  // Whether the interface has an xnet steering program attached (any instance).
  static bool xnet_program_on(uint32_t ifindex);

 private:
  XdpProgram() = default;
  bpf_object* obj_ = nullptr;
  ::xdp_program* prog_ = nullptr;
  uint32_t ifindex_ = 0;
  std::string ifname_;
  AttachMode mode_ = AttachMode::kNative;
  bool dispatcher_ = false;
  bool attached_ = false;
  uint32_t program_id_ = 0;
};

}  // namespace xnet::xdp
