// The host under test as xnet: a ServiceHost owning kHostIp/24 on the veth
// end, one shard, and UdpSockets used through their non-blocking calls on
// that shard (ServiceHost::run_on). A
// receive "waits" by asking again until its deadline, as a blocking recvmsg
// with a timeout would.

#include <cerrno>
#include <chrono>
#include <thread>
#include <vector>

#include "stack/api/udp_socket.h"
#include "stack/core/stats.h"
#include "tests/conformance/host.h"
#include "host/service_host.h"
#include "tests/e2e/e2e_host.h"

namespace xnet::conformance {
namespace {

using namespace std::chrono_literals;

long err_of(const std::error_code& e) { return e ? -e.value() : 0; }
long err_of(const Result<void>& r) { return r ? 0 : -r.error().value(); }

class XnetHost final : public HostUnderTest {
 public:
  XnetHost(netns::Netns& ns, std::unique_ptr<ServiceHost> host) : ns_(ns), host_(std::move(host)) {
    ifindex_ = host_->xdp().shard(0).ifindex;
  }
  ~XnetHost() override { shutdown(); }
  const char* kind() const override { return "xnet"; }

  int socket() override {
    return host_->run_on(0, [&](StackDriver& d) {
      Result<UdpSocket> s = UdpSocket::open(d);
      socks_.push_back(s ? std::move(*s) : UdpSocket());
      flags_.emplace_back();
      return static_cast<int>(socks_.size() - 1);
    });
  }
  long bind(int s, const Addr& a) override {
    return host_->run_on(0, [&](StackDriver&) { return err_of(socks_[s].bind(endpoint(a))); });
  }
  long connect(int s, const Addr& a) override {
    return host_->run_on(0, [&](StackDriver&) {
      return err_of(a.ip.empty() ? socks_[s].disconnect() : socks_[s].connect(endpoint(a)));
    });
  }
  long setopt(int s, Opt o, int v) override {
    return host_->run_on(0, [&](StackDriver&) -> long {
      UdpSocket& k = socks_[s];
      switch (o) {
        case Opt::kTtl: return err_of(k.set_ttl(v));
        case Opt::kTos: return err_of(k.set_tos(v));
        case Opt::kBroadcast: return err_of(k.set_broadcast(v != 0));
        case Opt::kNoCheck: return err_of(k.set_no_check(v != 0));
        case Opt::kMtuDiscover:
          if (v < 0 || v > 3) return -EINVAL;  // INTERFACE/OMIT: not in this API (yet)
          return err_of(k.set_pmtu_discovery(static_cast<PmtuDisc>(v)));
        case Opt::kSegment: return err_of(k.set_gso_size(v));
        case Opt::kCork: return err_of(k.set_cork(v != 0));
        case Opt::kRecvErr: return err_of(k.set_recv_errors(v != 0));
        // The receive cmsgs: xnet always reports the metadata; which of it a
        // recvmsg would carry is the socket's choice, kept here.
        case Opt::kPktInfo: flags_[s].pktinfo = v != 0; return 0;
        case Opt::kRecvTtl: flags_[s].ttl = v != 0; return 0;
        case Opt::kRecvTos: flags_[s].tos = v != 0; return 0;
        case Opt::kRcvBuf: return err_of(k.set_recv_buffer(v));
        case Opt::kSndBuf: return err_of(k.set_send_buffer(v));
      }
      return -ENOPROTOOPT;
    });
  }
  long send(int s, const SendArgs& a) override {
    const Bytes data = pattern(a.size, a.seq);
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data.data()), data.size());
    SendOptions o;
    o.more = a.more;
    o.ttl = a.ttl;
    o.tos = a.tos;
    if (a.pktinfo_src) o.source = *wire::Ipv4Addr::parse(*a.pktinfo_src);
    if (a.pktinfo_ifindex) o.ifindex = ifindex_;
    if (a.gso) o.gso_size = static_cast<uint16_t>(*a.gso);
    return host_->run_on(0, [&](StackDriver&) -> long {
      Result<size_t> r = a.to ? socks_[s].try_send_to(endpoint(*a.to), bytes, o) : socks_[s].try_send(bytes, o);
      return r ? static_cast<long>(*r) : -r.error().value();
    });
  }
  RecvOut recv(int s, const RecvArgs& a) override {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(a.wait_ms);
    std::vector<std::byte> buf(a.buf);
    for (;;) {
      RecvOut out = host_->run_on(0, [&](StackDriver&) {
        RecvOut o;
        RecvFlags f;
        f.peek = a.peek;
        f.trunc = a.trunc;
        Result<RecvResult> r = socks_[s].try_recv_from(buf, f);
        if (!r) {
          o.ret = -r.error().value();
          return o;
        }
        o.ret = static_cast<long>(r->size);
        o.msg_trunc = r->truncated;
        o.from = {r->source.addr.to_string(), r->source.port};
        o.data = digest(reinterpret_cast<const uint8_t*>(buf.data()), r->copied);
        if (flags_[s].pktinfo) {
          o.pktinfo_ifindex = r->info.ifindex == ifindex_ ? "if" : std::to_string(r->info.ifindex);
          o.pktinfo_spec_dst = r->info.spec_dst.to_string();
          o.pktinfo_addr = r->info.dst_addr.to_string();
        }
        if (flags_[s].ttl) o.ttl = r->info.ttl;
        if (flags_[s].tos) o.tos = r->info.tos;
        return o;
      });
      if (out.ret != -EAGAIN || std::chrono::steady_clock::now() >= deadline) return out;
      std::this_thread::sleep_for(1ms);
    }
  }
  ErrOut recv_error(int s, int wait_ms) override {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    for (;;) {
      ErrOut out = host_->run_on(0, [&](StackDriver&) {
        ErrOut o;
        Result<SockError> r = socks_[s].try_recv_error();
        if (!r) {
          o.ret = -r.error().value();
          return o;
        }
        o.ee_errno = static_cast<int>(r->err);
        o.origin = static_cast<int>(r->origin);
        o.type = r->type;
        o.code = r->code;
        o.info = r->info;
        o.offender = r->origin == ErrOrigin::kIcmp ? r->offender.to_string() : "none";
        o.dest = {r->dest_addr.to_string(), r->dest_port};
        o.ret = static_cast<long>(r->payload.size());
        o.data = digest(reinterpret_cast<const uint8_t*>(r->payload.data()), r->payload.size());
        return o;
      });
      if (out.ret != -EAGAIN || std::chrono::steady_clock::now() >= deadline) return out;
      std::this_thread::sleep_for(1ms);
    }
  }
  long so_error(int s) override {
    return host_->run_on(0, [&](StackDriver&) { return -err_of(socks_[s].take_error()); });
  }
  long close(int s) override {
    return host_->run_on(0, [&](StackDriver&) {
      socks_[s].close();
      return 0L;
    });
  }
  std::string snmp() override {
    return host_->run_on(0, [](StackDriver& d) { return stack::format_snmp(d.stack().stats(), false, 64); });
  }
  void shutdown() override {
    if (host_) {
      // Scenarios may end with frames held on purpose (fragments waiting for
      // the reassembly timer): no frame accounting here, the e2e tests do it.
      host_->run_on(0, [&](StackDriver&) { socks_.clear(); });
      host_->stop_services();
      ns_.run([&] {
        (void)host_->stop();
        host_.reset();
      });
    }
  }

 private:
  struct RecvCmsgs {
    bool pktinfo = false, ttl = false, tos = false;
  };
  static Endpoint endpoint(const Addr& a) {
    return {a.ip.empty() ? wire::Ipv4Addr() : *wire::Ipv4Addr::parse(a.ip), a.port};
  }

  netns::Netns& ns_;
  std::unique_ptr<ServiceHost> host_;
  uint16_t ifindex_ = 0;
  std::vector<UdpSocket> socks_;  // shard thread only
  std::vector<RecvCmsgs> flags_;
};

}  // namespace

std::unique_ptr<HostUnderTest> make_xnet_host(netns::Netns& ns, const std::string& ifname, std::string* error) {
  const ServiceOptions so = e2e::e2e_service_options(ifname, *wire::Ipv4Prefix::parse(std::string(kHostIp) + "/24"));
  std::unique_ptr<ServiceHost> host;
  ns.run([&] { host = ServiceHost::open(so, error); });
  if (!host) return nullptr;
  return std::make_unique<XnetHost>(ns, std::move(host));
}

}  // namespace xnet::conformance
