#include "tests/fuzz/fuzz_net.h"

#include <cstdio>
#include <cstdlib>

#include "stack/l2/neighbour_table.h"
#include "stack/ipv4/ip_fragment.h"
#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_table.h"

namespace xnet::fuzz {

namespace {

using namespace std::chrono_literals;

// Longer than every timer a frame can start: reassembly (30 s), ARP
// retries and failure, neighbour aging to STALE and garbage collection.
constexpr auto kSettle = 120s;

stack::support::MemNet* make_net(Role role) {
  stack::support::NetOptions o;
  o.frames = 512;
  o.config.ip_forward = role == Role::kRouter;
  o.config.accept_source_route = role == Role::kRouter;
  auto* net = new stack::support::MemNet(o);  // lives as long as the process
  if (role == Role::kRouter) {
    if (!net->stack(0).add_gateway_route({wire::Ipv4Addr(), 0}, net->addr(1), 1)) fail("default route");
  }
  return net;
}

stack::support::MemNet& shared_net(Role role) {
  static stack::support::MemNet* host = make_net(Role::kHost);
  static stack::support::MemNet* router = make_net(Role::kRouter);
  return role == Role::kRouter ? *router : *host;
}

}  // namespace

void fail(const char* what) {
  std::fprintf(stderr, "fuzz invariant failed: %s\n", what);
  std::abort();
}

FuzzNet::FuzzNet(Role role) : net_(shared_net(role)) {
  auto must = [](auto r, const char* what) {
    if (!r) fail(what);
  };
  stack::UdpTable& t = host().udp();
  UdpSock* server = t.open();
  must(t.bind(*server, {}, 7), "bind :7");
  UdpSock* client = t.open();
  must(t.bind(*client, net_.addr(0), 9), "bind 10.0.0.1:9");
  must(t.connect(*client, net_.addr(1), 9), "connect 10.0.0.2:9");
  client->recverr = true;
  UdpSock* small = t.open();
  must(t.bind(*small, {}, 11), "bind :11");
  must(stack::udp_set_rcvbuf(*small, 0), "SO_RCVBUF 0");
  sockets_ = {server, client, small};
  peer_server_ = peer().udp().open();
  must(peer().udp().bind(*peer_server_, {}, 9), "peer bind :9");
}

FuzzNet::~FuzzNet() {
  for (UdpSock* s : sockets_) {
    if (s != nullptr) host().udp().close(s);
  }
  peer().udp().close(peer_server_);
}

UdpSock* FuzzNet::open_socket() {
  UdpSock* s = host().udp().open();
  sockets_.push_back(s);
  return s;
}

void FuzzNet::close_socket(size_t i) {
  if (i >= sockets_.size() || sockets_[i] == nullptr) return;
  held_over_.erase(sockets_[i]);
  host().udp().close(sockets_[i]);
  sockets_[i] = nullptr;
}

void FuzzNet::deliver(std::span<const std::byte> frame) {
  (void)net_.inject(0, frame);  // refused when the host's queue is full: a drop, fine
  net_.run();
}

void FuzzNet::advance(std::chrono::milliseconds dt) { net_.advance(dt); }

void FuzzNet::drain(uint8_t style) {
  std::byte buf[2048];
  auto drain_one = [&](stack::Stack& s, UdpSock& sk) {
    for (int guard = 0; guard < 100000; ++guard) {
      bool got = false;
      switch (style % 4) {
        case 0: {  // recvmsg with a buffer that fits most datagrams
          got = stack::udp_recvmsg(s, sk, buf).ok();
          break;
        }
        case 1: {  // MSG_PEEK then a truncating MSG_TRUNC read of 3 bytes
          auto peeked = stack::udp_recvmsg(s, sk, buf, {.peek = true});
          // A pending socket error is reported (and cleared) before the queue
          // is looked at, by a peek too (__skb_recv_udp): the datagram is
          // still there for the next call, so peek again.
          if (!peeked && peeked.error() != std::errc::resource_unavailable_try_again) {
            peeked = stack::udp_recvmsg(s, sk, buf, {.peek = true});
          }
          auto r = stack::udp_recvmsg(s, sk, std::span(buf, 3), {.trunc = true});
          if (peeked.ok() != r.ok()) fail("MSG_PEEK and the next read disagree");
          if (r && peeked && r->full_size != peeked->full_size) fail("MSG_PEEK saw another datagram");
          got = r.ok();
          break;
        }
        case 2: {  // zero-copy: the frames come to the caller, then go back
          auto d = stack::udp_recv_datagram(s, sk);
          if (d) {
            if (stack::udp_copy_datagram(*d, buf) > d->size) fail("copied more than the datagram");
          }
          got = d.ok();
          break;
        }
        default: {  // an empty buffer
          got = stack::udp_recvmsg(s, sk, std::span<std::byte>()).ok();
          break;
        }
      }
      bool err = stack::udp_recv_error(sk).ok();
      if (!got && !err && sk.rxq.empty() && sk.errq.empty()) return;
    }
    fail("a socket never drained");
  };
  for (UdpSock* sk : sockets_) {
    if (sk != nullptr) drain_one(host(), *sk);
  }
  drain_one(peer(), *peer_server_);
}

void FuzzNet::rcvbuf_changed(const UdpSock& sk) {
  if (sk.rmem_alloc > sk.rcvbuf) held_over_[&sk] = sk.rmem_alloc;
}

void FuzzNet::check() const {
  auto& self = const_cast<FuzzNet&>(*this);
  auto check_sock = [&self](const UdpSock& sk) {
    uint32_t limit = sk.rcvbuf;
    if (auto it = self.held_over_.find(&sk); it != self.held_over_.end()) {
      // Only what was queued before the buffer shrank may be over it.
      if (sk.rmem_alloc <= sk.rcvbuf) {
        self.held_over_.erase(it);
      } else {
        limit = it->second;
      }
    }
    if (sk.rmem_alloc > limit && sk.rxq.size() + sk.errq.size() > 1) {
      fail("a socket holds more than its receive buffer");
    }
  };
  for (UdpSock* sk : sockets_) {
    if (sk != nullptr) check_sock(*sk);
  }
  check_sock(*peer_server_);
  for (size_t i = 0; i < 2; ++i) {
    const stack::Stack& s = self.net_.stack(i);
    // The bound is checked before a fragment is queued (inet_frag_find), so
    // one fragment's frame may stand beyond it.
    constexpr size_t kOneFrame = 65536;
    if (const_cast<stack::Stack&>(s).reassembly().mem() > s.config().ipfrag_high_thresh + kOneFrame) {
      fail("reassembly memory above ipfrag_high_thresh");
    }
  }
}

void FuzzNet::settle() {
  drain(0);
  check();
  for (const UdpSock* sk : sockets_) {
    if (sk != nullptr && sk->rxq.empty() && sk->errq.empty() && sk->rmem_alloc != 0) {
      fail("receive memory charged to an empty socket");
    }
  }
  // Closing frees what sockets still hold (a pending cork); frames in flight
  // come back to the pools as the links complete them.
  for (size_t i = 0; i < sockets_.size(); ++i) close_socket(i);
  // ARP retries re-arm relative to the time they fire: steps, not one jump.
  net_.advance_by_steps(kSettle, std::chrono::seconds(10));
  drain(0);
  for (size_t i = 0; i < 2; ++i) {
    if (net_.stack(i).reassembly().mem() != 0) fail("reassembly memory left after its timeout");
  }
  if (net_.frames_in_flight() != 0) fail("frames not back in their pools");
  // The taps keep copies of what was sent; the next input starts without them.
  (void)net_.sent(0);
  (void)net_.sent(1);
}

}  // namespace xnet::fuzz
