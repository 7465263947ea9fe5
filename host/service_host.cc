#include "host/service_host.h"

#include "stack/api/neighbour_source.h"
#include "xdp/netdev.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace xnet {

namespace {

// The interface's driver name (ETHTOOL_GDRVINFO), or "" when it cannot be read.
std::string driver_of(const std::string& dev) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  ethtool_drvinfo info{};
  info.cmd = ETHTOOL_GDRVINFO;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, dev.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = reinterpret_cast<char*>(&info);
  const int r = ::ioctl(fd, SIOCETHTOOL, &ifr);
  ::close(fd);
  return r == 0 ? std::string(info.driver) : std::string();
}

}  // namespace

std::unique_ptr<ServiceHost> ServiceHost::open(const ServiceOptions& options, std::string* error) {
  std::unique_ptr<ServiceHost> h(new ServiceHost());
  h->options_ = options;

  if (options.handle_signals) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    h->signal_fd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  }

  if (options.control) {
    auto c = ControlServer::open(options.dev);
    if (!c) {
      *error = c.error() == std::errc::address_in_use
                   ? fmt::format("another xnet process already serves {} in this network namespace "
                                 "(stop it first, or use `xnet stats --dev {}`)",
                                 options.dev, options.dev)
                   : fmt::format("control channel for {}: {}", options.dev, c.error().message());
      return nullptr;
    }
    h->control_.emplace(std::move(c.value()));
  }

  xdp::XdpHostConfig hc;
  hc.ifname = options.dev;
  hc.address = options.addr;
  hc.shared = options.shared;
  hc.gateway = options.gateway;
  hc.queues = options.queues;
  hc.link = options.link;
  hc.stack = options.stack;
  std::vector<CaptureLink*>* captures = &h->captures_;
  hc.wrap_link = [captures](uint32_t, stack::Link& inner) {
    auto c = std::make_unique<CaptureLink>(inner);
    captures->push_back(c.get());
    return std::unique_ptr<stack::Link>(std::move(c));
  };
  auto host = xdp::XdpHost::open(hc, std::chrono::steady_clock::now());
  if (!host) {
    *error = host.message();
    return nullptr;
  }
  h->host_ = std::move(host.value());
  // An AF_XDP socket sees only its queue: what the NIC (or a veth's kernel
  // peer, by its own hash) puts on another queue reaches no xnet socket.
  if (const uint32_t all = h->host_->interface().queue_count(); options.advise && h->host_->shard_count() < all) {
    fmt::print(stderr,
               "xnet: serving receive queue(s) 0..{} of {} on {}: datagrams the NIC puts on queues {}..{} reach no "
               "xnet socket and are lost (XnetSteer NoSocket in `xnet stats`); --queues 0 serves every queue\n",
               h->host_->shard_count() - 1, all, options.dev, h->host_->shard_count(), all - 1);
  }
  // Huge pages were asked for but did not come (THP off, or memory too
  // fragmented for 2 MiB pages): the service runs, slower, so say why.
  if (options.advise && options.link.umem.huge_pages) {
    for (size_t i = 0; i < h->host_->shard_count(); ++i) {
      if (h->host_->shard(i).link->umem().huge_page_bytes() != 0) continue;
      const std::string mode = xdp::transparent_huge_pages_mode();
      fmt::print(stderr,
                 "xnet: the UMEM of {} is on 4 KiB pages (transparent huge pages: {}): the first touch of a "
                 "received frame can be a TLB miss (netbench, 1400 B: ~10-15% fewer datagrams a second); `echo "
                 "madvise > /sys/kernel/mm/transparent_hugepage/enabled` lets it have 2 MiB pages\n",
                 options.dev, mode.empty() ? "unknown" : mode);
      break;
    }
  }
  // A kernel peer on veth leaves UDP checksums unfinished (CHECKSUM_PARTIAL)
  // unless told otherwise; xnet verifies them and drops what fails (Udp
  // InCsumErrors), so say how to fix it before anyone wonders.
  if (options.advise && driver_of(options.dev) == "veth") {
    fmt::print(stderr,
               "xnet: {} is a veth: a kernel peer must send complete UDP checksums, run `ethtool -K <peer> tx "
               "off` on the other end (otherwise its datagrams count as Udp InCsumErrors and are dropped)\n",
               options.dev);
  }

  if (options.shared && !h->start_kernel_tables(error)) return nullptr;

  rt::RuntimeOptions ro;
  ro.shards = static_cast<unsigned>(h->host_->shard_count());
  ro.mode = options.busy_poll ? rt::PollMode::kBusy : rt::PollMode::kIdle;
  ro.yield_when_idle = options.yield_when_idle;
  ro.idle_spin = options.idle_spin;
  ro.sched_batch = options.sched_batch;
  ro.cpus = options.cpus;
  h->runtime_ = std::make_unique<rt::Runtime>(ro);
  for (size_t i = 0; i < h->host_->shard_count(); ++i) h->links_.push_back(h->host_->shard(i).link.get());

  // Each shard takes its stack and links out of the XdpHost (which keeps the
  // interface and detaches the program last). Wrapper before link in `links`:
  // the vector destroys front to back.
  xdp::XdpHost* xh = h->host_.get();
  h->stacks_ = std::make_unique<ShardedStacks>(*h->runtime_, [xh](unsigned shard) {
    xdp::XdpShard& s = xh->shard(shard);
    ShardNet net;
    if (s.wrapper) net.links.push_back(std::move(s.wrapper));
    net.links.push_back(std::move(s.link));
    net.stack = std::move(s.stack);
    return net;
  });
  if (h->kernel_tables_) {
    for (unsigned i = 0; i < h->stacks_->shard_count(); ++i) h->shared_stacks_.push_back(&h->stacks_->stack(i));
    h->shared_ready_ = true;
  }
  if (!options.capture_path.empty()) {
    if (auto r = h->start_capture(options.capture_path); !r) {
      *error = fmt::format("cannot write {}: {}", options.capture_path, r.error().message());
      return nullptr;
    }
  }
  return h;
}

ServiceHost::~ServiceHost() {
  (void)stop();
  if (signal_fd_ >= 0) ::close(signal_fd_);
}

void ServiceHost::stop_services() {
  if (stacks_) stacks_->stop_services();
}

bool ServiceHost::start_kernel_tables(std::string* error) {
  auto k = xdp::KernelTables::start(
      host_->interface().ifindex(), [this](wire::Ipv4Addr ip, const wire::MacAddr& mac) { learn_neighbour(ip, mac); },
      [this](const xdp::KernelRoute& r, bool deleted) { follow_route(r, deleted); });
  if (!k) {
    *error = "following the kernel's neighbours and routes on " + options_.dev + ": " + k.message();
    return false;
  }
  kernel_tables_ = std::move(k.value());
  xdp::KernelTables* kn = kernel_tables_.get();
  shared_ifindex_ = host_->shard(0).ifindex;
  for (size_t i = 0; i < host_->shard_count(); ++i) {
    set_neighbour_solicitor(*host_->shard(i).stack, [kn](wire::Ipv4Addr ip) { kn->solicit(ip); });
  }
  return true;
}

void ServiceHost::learn_neighbour(wire::Ipv4Addr ip, const wire::MacAddr& mac) {
  // Until the shards run, the kernel's table (KernelTables keeps it)
  // answers each stack's first solicit instead.
  if (!shared_ready_) return;
  const uint16_t ifindex = shared_ifindex_;
  for (unsigned i = 0; i < shared_stacks_.size(); ++i) {
    stack::Stack* s = shared_stacks_[i];
    runtime_->reactor(i).post([s, ifindex, ip, mac] { (void)xnet::learn_neighbour(*s, ifindex, ip, mac, rt::Reactor::now()); });
  }
}

void ServiceHost::follow_route(const xdp::KernelRoute& r, bool deleted) {
  // A change before the shards run is in the routes XdpHost read, or races
  // with that read by microseconds: the next change applies it.
  if (!shared_ready_) return;
  const uint16_t ifindex = shared_ifindex_;
  for (unsigned i = 0; i < shared_stacks_.size(); ++i) {
    stack::Stack* s = shared_stacks_[i];
    runtime_->reactor(i).post([s, ifindex, r, deleted] {
      if (!deleted) {
        // ENETUNREACH: the gateway is not on a subnet xnet has (the kernel
        // accepted it with onlink, or an address changed): not followed.
        if (auto ok = s->add_gateway_route(r.prefix, r.gateway, ifindex); !ok) {
          std::fprintf(stderr, "xnet: the kernel's route %s/%d via %s is not followed: %s\n",
                       r.prefix.addr.to_string().c_str(), r.prefix.len, r.gateway.to_string().c_str(),
                       ok.error().message().c_str());
        }
        return;
      }
      const auto have = s->routes().exact(r.prefix);
      if (have && have->gateway == r.gateway && have->ifindex == ifindex) s->routes().remove(r.prefix);
    });
  }
}

xdp::XdpResult<void> ServiceHost::stop() {
  if (stopped_) return {};
  stopped_ = true;
  // Nothing posts to the shards after this (it joins its thread).
  kernel_tables_.reset();
  if (stacks_) stacks_->stop();
  stacks_.reset();
  if (runtime_) runtime_->stop();
  runtime_.reset();
  if (pcap_) pcap_->flush();
  if (host_) return host_->close();
  return {};
}

int ServiceHost::run(std::optional<std::chrono::milliseconds> duration, const std::function<bool()>& done) {
  const auto deadline = duration ? std::optional(std::chrono::steady_clock::now() + *duration) : std::nullopt;
  auto next_watch = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (;;) {
    if (done && done()) return 0;
    if (std::chrono::steady_clock::now() >= next_watch) {
      next_watch += std::chrono::seconds(1);
      if (!watch_link()) return kLinkLost;
    }
    int wait_ms = done ? 50 : 1000;
    if (deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return 0;
      wait_ms = static_cast<int>(std::min<int64_t>(wait_ms, left.count()));
    }
    pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {control_ ? control_->fd() : -1, POLLIN, 0}};
    const int n = ::poll(fds, 2, wait_ms);
    if (n < 0 && errno != EINTR) return 0;
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si;
      if (::read(signal_fd_, &si, sizeof si) == sizeof si) return static_cast<int>(si.ssi_signo);
    }
    if (control_ && (fds[1].revents & POLLIN)) {
      while (auto req = control_->receive()) control_->reply(*req, handle(req->text));
    }
  }
}

bool ServiceHost::watch_link() {
  xdp::XdpInterface& iface = host_->interface();
  switch (iface.health()) {
    case xdp::LinkHealth::kOk:
      follow_mtu();
      return true;
    case xdp::LinkHealth::kInterfaceGone:
      fmt::print(stderr, "xnet: interface {} is gone (deleted, or its namespace went away); stopping\n", iface.name());
      return false;
    case xdp::LinkHealth::kProgramDetached:
      if (auto r = iface.reattach(); !r) {
        if (r.error() == std::errc::device_or_resource_busy) {
          // Replaced, not removed: another program holds the interface.
          // Nothing reaches xnet meanwhile; said once, and attached again
          // as soon as it goes (its owner's business, not ours to remove).
          if (!displaced_) {
            fmt::print(stderr, "xnet: the XDP program on {} was replaced by another one; nothing reaches xnet until "
                               "that one is removed, then xnet attaches again\n", iface.name());
          }
          displaced_ = true;
          return true;
        }
        fmt::print(stderr, "xnet: the XDP program on {} was removed and cannot be attached again: {}; stopping\n",
                   iface.name(), r.error().message());
        return false;
      }
      fmt::print(stderr, "xnet: the XDP program on {} was {} by someone else; attached it again\n", iface.name(),
                 displaced_ ? "replaced" : "removed");
      displaced_ = false;
      return true;
  }
  return true;
}

void ServiceHost::follow_mtu() {
  if (links_.empty()) return;
  auto info = xdp::query_netdev(host_->interface().name());
  if (!info) return;  // gone: the next health check says so
  const uint32_t mtu = info.value().mtu;
  const uint32_t was = links_[0]->mtu();
  if (mtu == was || mtu == refused_mtu_) return;
  bool ok = true;
  for (unsigned i = 0; i < links_.size(); ++i) {
    xdp::XdpLink* link = links_[i];
    ok &= runtime_->run_on(i, [link, mtu] { return link->set_mtu(mtu); });
  }
  if (ok) {
    refused_mtu_ = 0;
    fmt::print(stderr, "xnet: the MTU of {} changed from {} to {}; datagrams now leave by {}\n",
               host_->interface().name(), was, mtu, mtu);
    return;
  }
  refused_mtu_ = mtu;
  fmt::print(stderr,
             "xnet: the MTU of {} changed from {} to {}, more than a UMEM frame holds ({} at most): xnet keeps "
             "sending by {}, and larger frames the peer sends are dropped (Queue rx_dropped in `xnet stats`)\n",
             host_->interface().name(), was, mtu, links_[0]->max_mtu(), was);
}

std::string ServiceHost::handle(const std::string& request) {
  if (request == "stats") {
    const stack::Stats s = stats();
    return "ok\n" + stack::format_snmp(s, false, 64) + stack::format_netstat(s) + stack::format_drops(s) +
           stack::format_handoff(s) +
           steer_text() + ring_text();
  }
  if (request.rfind("capture ", 0) == 0) {
    const std::string path = request.substr(8);
    if (auto r = start_capture(path); !r) {
      return fmt::format("error: cannot write {}: {}\n", path, r.error().message());
    }
    return fmt::format("ok\ncapturing to {}\n", path);
  }
  if (request == "capture-stop") {
    const uint64_t n = pcap_ ? pcap_->frames() : 0;
    stop_capture();
    return fmt::format("ok\n{} frames written\n", n);
  }
  return fmt::format("error: unknown request '{}' (stats, capture PATH, capture-stop)\n", request);
}

stack::Stats ServiceHost::stats() {
  stack::Stats sum;
  if (!stacks_) return sum;
  for (unsigned i = 0; i < stacks_->shard_count(); ++i) {
    sum += runtime_->run_on(i, [this, i] { return stacks_->stack(i).stats(); });
  }
  return sum;
}

std::string ServiceHost::snmp_text() {
  const stack::Stats s = stats();
  return stack::format_snmp(s, false, 64);
}

std::string ServiceHost::steer_text() {
  if (!host_) return "";
  const xdp::SteerCounters c = host_->interface().counters();
  std::string out = fmt::format(
      "XnetSteer: Steered Passed Malformed NoSocket QueuesServed Queues\n"
      "XnetSteer: {} {} {} {} {} {}\n",
      c.steered, c.passed, c.malformed, c.no_socket, host_->shard_count(), host_->interface().queue_count());
  xdp::SharedPorts* ports = host_->shared_ports();
  if (ports == nullptr) return out;
  const std::vector<uint16_t> held = ports->held();
  const xdp::KernelTableCounts n = kernel_tables_ ? kernel_tables_->counts() : xdp::KernelTableCounts{};
  out += fmt::format(
      "XnetShared: Addresses PortsHeld FragEarly HandedBack HandBackFailed NeighSolicits NeighAsked NeighLearned "
      "RouteChanges\n"
      "XnetShared: {} {} {} {} {} {} {} {} {}\n",
      ports->addresses().size(), held.size(), c.frag_early, ports->handed_back(), ports->hand_back_failed(),
      n.solicited, n.asked, n.learned, n.route_changes);
  std::string names = "XnetSharedPorts:", values = "XnetSharedPorts:";
  for (uint16_t p : held) {
    names += fmt::format(" Udp{}", p);
    values += " 1";
  }
  return out + names + "\n" + values + "\n";
}

std::string ServiceHost::ring_text() {
  std::string out;
  if (!stacks_) return out;
  out += "Queue: queue rx tx fill completion free stack rx_dropped rx_ring_full rx_fill_empty tx_invalid tx_ring_empty in_flight\n";
  for (unsigned i = 0; i < stacks_->shard_count(); ++i) {
    xdp::XdpLink* link = links_[i];
    out += runtime_->run_on(i, [link] {
      const xdp::FrameCounts c = link->frame_counts();
      const auto st = link->xsk_statistics();
      const stack::LinkStats ls = link->stats();
      xdp_statistics x{};
      if (st) x = st.value();
      return fmt::format("Queue: {} {} {} {} {} {} {} {} {} {} {} {} {}\n", link->queue(), ls.rx_packets,
                         ls.tx_packets, c.fill, c.completion, c.free, c.stack, x.rx_dropped,
                         x.rx_ring_full, x.rx_fill_ring_empty_descs, x.tx_invalid_descs,
                         x.tx_ring_empty_descs, c.total - c.free - c.fill);
    });
  }
  return out;
}

Result<void> ServiceHost::start_capture(const std::string& path) {
  auto w = stack::PcapWriter::open(path);
  if (!w) return w.error();
  stop_capture();
  pcap_ = std::make_shared<SharedPcap>(std::move(w.value()));
  for (unsigned i = 0; i < captures_.size(); ++i) {
    CaptureLink* c = captures_[i];
    runtime_->run_on(i, [c, p = pcap_] { c->set_capture(p); });
  }
  return {};
}

void ServiceHost::stop_capture() {
  if (!pcap_) return;
  for (unsigned i = 0; i < captures_.size(); ++i) {
    CaptureLink* c = captures_[i];
    runtime_->run_on(i, [c] { c->set_capture(nullptr); });
  }
  pcap_->flush();
  pcap_.reset();
}

}  // namespace xnet
