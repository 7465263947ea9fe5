#include "xdp/xdp_program.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "bpf/steer_abi.h"
#include "bpf/xnet_steer_object.h"

namespace xnet::xdp {
namespace {

// libxdp's own chatter ("Can't use dispatcher without a working bpffs") is
// useful once, prefixed so an operator knows where it came from; debug is noise.
// The bpffs notice repeats on every attach; once per process says it all.
int libxdp_log(enum libxdp_print_level level, const char* fmt, va_list ap) {
  if (level != LIBXDP_WARN) return 0;
  char line[512];
  std::vsnprintf(line, sizeof(line), fmt, ap);
  static std::atomic<bool> bpffs_told{false};
  // Without a bpffs (e.g. under `ip netns exec`) libxdp loads the program
  // alone instead of through its dispatcher: expected, so said only on request.
  if (std::strstr(line, "bpffs") != nullptr && (std::getenv("XNET_DEBUG") == nullptr || bpffs_told.exchange(true))) {
    return 0;
  }
  return std::fprintf(stderr, "xnet-xdp: %s", line);
}

// libbpf warns about every ELF section it does not know, e.g. the
// "xdp_metadata" section clang emits for kfunc metadata: harmless, and printed
// twice per attach. Other warnings pass through, prefixed.
int libbpf_log(enum libbpf_print_level level, const char* fmt, va_list ap) {
  if (level != LIBBPF_WARN) return 0;
  char line[512];
  std::vsnprintf(line, sizeof(line), fmt, ap);
  if (std::strstr(line, "skipping unrecognized data section") != nullptr) return 0;
  return std::fprintf(stderr, "xnet-xdp: %s", line);
}

void install_logger() {
  static std::once_flag once;
  std::call_once(once, [] {
    libxdp_set_print(libxdp_log);
    libbpf_set_print(libbpf_log);
  });
}

enum xdp_attach_mode to_libxdp(AttachMode m) {
  return m == AttachMode::kNative ? XDP_MODE_NATIVE : XDP_MODE_SKB;
}

std::string errstr(int err) { return std::strerror(err < 0 ? -err : err); }

// Removes leftovers of a crashed xnet; refuses when somebody else's program is
// attached alone (legacy mode), because replacing it would break them.
XdpResult<void> clear_interface(uint32_t ifindex, const std::string& ifname, bool replace_stale) {
  xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(static_cast<int>(ifindex));
  if (libxdp_get_error(mp) != 0 || mp == nullptr) return {};  // nothing attached
  XdpResult<void> result;
  if (xdp_multiprog__is_legacy(mp)) {
    xdp_program* main = xdp_multiprog__main_prog(mp);
    if (main != nullptr) {
      const std::string name = xdp_program__name(main);
      if (name == XNET_STEER_PROG_NAME && replace_stale) {
        std::fprintf(stderr, "xnet-xdp: replacing a stale %s (id %u) left on %s\n", name.c_str(),
                     xdp_program__id(main), ifname.c_str());
        const int err = xdp_multiprog__detach(mp);
        if (err != 0) result = errno_error(-err, "could not detach stale program: " + errstr(err));
      } else {
        result = make_error(std::errc::device_or_resource_busy,
                            "XDP program '" + name + "' (id " +
                                std::to_string(xdp_program__id(main)) + ") is already attached to " +
                                ifname + " by something else; detach it (`xdp-loader unload " +
                                ifname + " --all` or `ip link set dev " + ifname +
                                " xdp off`) or load it through the libxdp dispatcher");
      }
    }
  } else {
    const enum xdp_attach_mode mode = xdp_multiprog__attach_mode(mp);
    for (xdp_program* p = xdp_multiprog__next_prog(nullptr, mp); p != nullptr;
         p = xdp_multiprog__next_prog(p, mp)) {
      if (std::string(xdp_program__name(p)) != XNET_STEER_PROG_NAME) continue;
      if (!replace_stale) {
        result = make_error(std::errc::device_or_resource_busy,
                            "an xnet steering program is already attached to " + ifname);
        break;
      }
      std::fprintf(stderr, "xnet-xdp: replacing a stale %s (id %u) in the dispatcher on %s\n",
                   XNET_STEER_PROG_NAME, xdp_program__id(p), ifname.c_str());
      const int err = xdp_program__detach(p, static_cast<int>(ifindex), mode, 0);
      if (err != 0) {
        result = errno_error(-err, "could not detach stale program: " + errstr(err));
        break;
      }
    }
  }
  xdp_multiprog__close(mp);
  return result;
}

}  // namespace

const char* to_string(AttachMode m) { return m == AttachMode::kNative ? "native" : "skb"; }

XdpResult<std::unique_ptr<XdpProgram>> XdpProgram::attach(uint32_t ifindex,
                                                          const std::string& ifname,
                                                          const XdpProgramConfig& config) {
  install_logger();
  std::unique_ptr<XdpProgram> p(new XdpProgram());
  p->ifindex_ = ifindex;
  p->ifname_ = ifname;

  if (auto r = clear_interface(ifindex, ifname, config.replace_stale); !r) return r.take_error();

  if (config.object_path.empty()) {
    const auto bytes = bpf::xnet_steer_object();
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = XNET_STEER_PROG_NAME);
    p->obj_ = bpf_object__open_mem(bytes.data(), bytes.size(), &opts);
  } else {
    p->obj_ = bpf_object__open_file(config.object_path.c_str(), nullptr);
  }
  if (libbpf_get_error(p->obj_) != 0 || p->obj_ == nullptr) {
    const int err = errno;
    p->obj_ = nullptr;
    return errno_error(err, "could not open the BPF object " +
                                (config.object_path.empty() ? std::string("(embedded)")
                                                            : config.object_path) +
                                ": " + errstr(err));
  }
  p->prog_ = xdp_program__from_bpf_obj(p->obj_, "xdp");
  if (libxdp_get_error(p->prog_) != 0 || p->prog_ == nullptr) {
    const int err = static_cast<int>(-libxdp_get_error(p->prog_));
    p->prog_ = nullptr;
    return errno_error(err ? err : EINVAL, "no XDP program in the BPF object");
  }
  // Frags-aware (BPF_F_XDP_HAS_FRAGS, what SEC("xdp.frags") would set): the
  // program reads only the first buffer's headers, so it is right for
  // multi-buffer packets too, and drivers refuse a program without the flag
  // on an MTU larger than a page (veth: ERANGE). Set at load, here, so the
  // object keeps one section name for every loader.
  if (int e = xdp_program__set_xdp_frags_support(p->prog_, true); e != 0) {
    return errno_error(-e, "could not mark the XDP program frags-aware: " + errstr(e));
  }

  auto try_attach = [&](AttachMode m) {
    return xdp_program__attach(p->prog_, static_cast<int>(ifindex), to_libxdp(m), 0);
  };
  int err = 0;
  if (config.attach == AttachRequest::kSkb) {
    p->mode_ = AttachMode::kSkb;
    err = try_attach(AttachMode::kSkb);
  } else {
    p->mode_ = AttachMode::kNative;
    err = try_attach(AttachMode::kNative);
    if (err != 0 && config.attach == AttachRequest::kNativePreferred) {
      std::fprintf(stderr,
                   "xnet-xdp: native XDP on %s failed (%s); falling back to generic (SKB) mode, "
                   "which is slow\n",
                   ifname.c_str(), errstr(err).c_str());
      p->mode_ = AttachMode::kSkb;
      err = try_attach(AttachMode::kSkb);
    }
  }
  if (err != 0) {
    const int e = -err;
    if (e == EPERM || e == EACCES) {
      return errno_error(e, "attaching XDP to " + ifname + " was refused: " + errstr(e) +
                                " (needs CAP_NET_ADMIN and CAP_BPF)");
    }
    if (e == EOPNOTSUPP) {
      return errno_error(e, "the driver of " + ifname + " does not support XDP in the requested mode");
    }
    if (e == EEXIST || e == EBUSY) {
      return errno_error(e, "another XDP program is already attached to " + ifname);
    }
    if (e == ERANGE) {
      return errno_error(e, "the MTU of " + ifname +
                                " is too large for XDP on this driver (no multi-buffer XDP support)");
    }
    return errno_error(e, "attaching XDP to " + ifname + " failed: " + errstr(e));
  }
  p->attached_ = true;
  p->program_id_ = xdp_program__id(p->prog_);

  xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(static_cast<int>(ifindex));
  if (libxdp_get_error(mp) == 0 && mp != nullptr) {
    p->dispatcher_ = !xdp_multiprog__is_legacy(mp);
    xdp_multiprog__close(mp);
  }
  return p;
}

XdpProgram::~XdpProgram() {
  (void)detach();
  if (prog_ != nullptr) xdp_program__close(prog_);
  // from_bpf_obj does not hand the object over: it is ours to close.
  if (obj_ != nullptr) bpf_object__close(obj_);
}

XdpResult<void> XdpProgram::detach() {
  if (!attached_) return {};
  attached_ = false;
  const int err = xdp_program__detach(prog_, static_cast<int>(ifindex_), to_libxdp(mode_), 0);
  if (err != 0 && err != -ENOENT) {
    return errno_error(-err, "detaching XDP from " + ifname_ + " failed: " + errstr(err));
  }
  return {};
}

XdpResult<void> XdpProgram::reattach() {
  if (is_attached()) return {};
  attached_ = false;
  const int err = xdp_program__attach(prog_, static_cast<int>(ifindex_), to_libxdp(mode_), 0);
  if (err != 0) {
    const int e = -err;
    if (e == EEXIST || e == EBUSY) {
      return errno_error(EBUSY, "another XDP program took " + ifname_ + " after xnet's was detached");
    }
    return errno_error(e, "re-attaching XDP to " + ifname_ + " failed: " + errstr(e));
  }
  attached_ = true;
  program_id_ = xdp_program__id(prog_);
  return {};
}

bool XdpProgram::is_attached() const {
  return attached_ && xdp_program__is_attached(prog_, static_cast<int>(ifindex_)) != XDP_MODE_UNSPEC;
}

int XdpProgram::map_fd(const char* name) const {
  return obj_ == nullptr ? -1 : bpf_object__find_map_fd_by_name(obj_, name);
}

bool XdpProgram::xnet_program_on(uint32_t ifindex) {
  xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(static_cast<int>(ifindex));
  if (libxdp_get_error(mp) != 0 || mp == nullptr) return false;
  bool found = false;
  if (xdp_multiprog__is_legacy(mp)) {
    xdp_program* main = xdp_multiprog__main_prog(mp);
    found = main != nullptr && std::string(xdp_program__name(main)) == XNET_STEER_PROG_NAME;
  } else {
    for (xdp_program* p = xdp_multiprog__next_prog(nullptr, mp); p != nullptr && !found;
         p = xdp_multiprog__next_prog(p, mp)) {
      found = std::string(xdp_program__name(p)) == XNET_STEER_PROG_NAME;
    }
  }
  xdp_multiprog__close(mp);
  return found;
}

}  // namespace xnet::xdp
