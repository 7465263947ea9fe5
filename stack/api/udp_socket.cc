#include "stack/api/udp_socket.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include "runtime/reactor.h"
#include "stack/core/stack.h"
#include "stack/udp/udp_input.h"
#include "stack/udp/udp_multicast.h"
#include "stack/udp/udp_table.h"

namespace xnet {

namespace {

using detail::SocketState;
using detail::StateRef;

constexpr std::errc kAgain = std::errc::resource_unavailable_try_again;

std::errc closed_error(const StateRef& s) { return s ? s->dead : std::errc::bad_file_descriptor; }
bool usable(const StateRef& s) { return s && s->sk != nullptr; }
stack::Stack& stack_of(SocketState& s) { return s.driver->stack(); }

bool is_again(const std::error_code& e) { return e == kAgain; }

// A woken receiver may leave data queued (a peek, a batch that filled up, or
// a datagram someone else took first while it was on the ready queue): pass
// the wake-up on so no other waiter sleeps on a non-empty queue.
void pass_reader_baton(SocketState& s) {
  if (s.sk == nullptr || s.readers.empty()) return;
  if (!s.sk->rxq.empty() || s.sk->sk_err != std::errc{}) s.readers.wake_one();
}

// The send buffer is full: the caller may wait for SendBuffer::on_space. Any
// other EAGAIN (no ephemeral port left) is final.
bool send_buffer_full(const stack::UdpSock& sk) {
  return sk.tx.sndbuf->allocated >= sk.tx.sndbuf->limit;
}

// The kernel's sendmsg hands its frames to the device before it returns
// (dev_queue_xmit → the driver); ours go to the link as the call ends too,
// not at the reactor's flush after the application's turn: a ping-pong side
// 110-180 ns sooner (stage trace, "→ tx_burst"). A batch or a GSO send still
// leaves as one burst, at its end.
// Nothing to push for a socket closed meanwhile (its driver may be gone).
void xmit_now(SocketState& s) {
  if (s.sk != nullptr && s.driver != nullptr) s.driver->flush();
}

Result<size_t> send_now(SocketState& s, const std::optional<Endpoint>& dest,
                        std::span<const std::byte> data, const SendOptions& o) {
  stack::UdpSock& sk = *s.sk;
  stack::SockAddrIn addr;
  const stack::SockAddrIn* dp = nullptr;
  if (dest) {
    addr.to = *dest;
    dp = &addr;
  }
  // The pass's clock (read once per reactor pass): a send's timestamps (the
  // neighbour's last use, ARP timers) need no finer time, and a clock read
  // here is ~30 ns of every send.
  return stack::udp_sendmsg(stack_of(s), sk, data, dp, o, s.driver->reactor().loop_time());
}

// sendmsg with an iovec: every part but the last appended with MSG_MORE
// (ip_append_data walks an iovec the same way). A failed append flushes the
// pending datagram (udp_sendmsg), so nothing of it leaves.
Result<size_t> send_gather_now(SocketState& s, const Endpoint& dest, const Datagram& d, const SendOptions& o) {
  if (d.contiguous()) return send_now(s, dest, d.front(), o);  // one frame: one part
  size_t total = 0;
  std::optional<std::span<const std::byte>> held;  // sent once we know whether it is the last
  for (std::span<const std::byte> part : d.payload()) {
    if (held) {
      SendOptions more = o;
      more.more = true;
      Result<size_t> r = send_now(s, dest, *held, more);
      if (!r) return r;
      total += *r;
      if (s.sk == nullptr) return total;
    }
    held = part;
  }
  Result<size_t> r = send_now(s, dest, held.value_or(std::span<const std::byte>()), o);
  if (!r) return r;
  return total + *r;
}

Result<RecvResult> recv_now(SocketState& s, std::span<std::byte> buf, const RecvFlags& f) {
  return stack::udp_recvmsg(stack_of(s), *s.sk, buf, f);
}

Result<Datagram> take_datagram(SocketState& s) {
  Result<stack::RxDatagram> r = stack::udp_recv_datagram(stack_of(s), *s.sk);
  if (!r) return r.error();
  return Datagram(std::move(*r), stack_of(s), s.sk->drops);
}

// Up to out.size() datagrams in one pass over the queue; a pending error is
// reported instead of any (stack::udp_recv_datagrams).
Result<size_t> take_batch(SocketState& s, std::span<Datagram> out) {
  stack::Stack& st = stack_of(s);
  const uint64_t drops = s.sk->drops;
  return stack::udp_recv_datagrams(st, *s.sk, out.size(), [&](size_t i, stack::RxDatagram& d) {
    // Built in place: a temporary moved into out[i] is copied through vector
    // registers just after its fields were stored, a store-forwarding stall
    // (40% of udp_recv_datagrams in recv_bench).
    std::destroy_at(&out[i]);
    std::construct_at(&out[i], std::move(d), st, drops);
  });
}

bool may_wait(const SocketState& s, bool dont_wait) { return !dont_wait && !s.nonblocking; }

// A blocking sendmsg that meets a full send buffer waits inside
// sock_alloc_send_pskb and counts nothing; only giving up (SO_SNDTIMEO) moves
// Udp SndbufErrors and Ip OutDiscards, once. (Asked the kernel, 6.18: a send
// that waited until ARP freed the buffer moved neither; each timed-out one
// moved both by one.) Our try before each wait is the stack's MSG_DONTWAIT
// path, which counts: a try followed by a wait gives its counts back.
class SendCounts {
 public:
  explicit SendCounts(SocketState& s)
      : stats_(stack_of(s).stats()), sndbuf_errors_(stats_.udp.SndbufErrors), out_discards_(stats_.ip.OutDiscards) {}
  void give_back() {
    stats_.udp.SndbufErrors = sndbuf_errors_;
    stats_.ip.OutDiscards = out_discards_;
  }

 private:
  stack::Stats& stats_;
  uint64_t sndbuf_errors_, out_discards_;
};

// One wait of a call under SO_RCVTIMEO / SO_SNDTIMEO: the call's deadline is
// set at its first wait and shared by the later ones (the kernel takes timeo
// once per call and its waits use it up). Expiry is timed_out; the caller
// tries once more and then returns EAGAIN, as the kernel does.
rt::WaitQueue<void>::Waiter call_wait(rt::WaitQueue<void>& q, const std::optional<rt::Duration>& timeout,
                                      std::optional<rt::TimePoint>& deadline) {
  if (!timeout) return q.wait();
  if (!deadline) deadline = rt::Reactor::now() + *timeout;
  return q.wait_until(*deadline);
}

}  // namespace

// --- lifetime ---

Result<UdpSocket> UdpSocket::open(StackDriver& driver) {
  auto* st = new SocketState;
  StateRef ref(st);
  st->driver = &driver;
  st->sk = driver.stack().udp().open();
  st->sk->waker.readable = &SocketState::on_readable;
  st->sk->waker.writable = &SocketState::on_writable;
  st->sk->waker.error = &SocketState::on_error;
  st->sk->waker.ctx = st;
  st->sk->tx.sndbuf->on_space = &SocketState::on_writable;
  st->sk->tx.sndbuf->on_space_ctx = st;
  driver.attach(*st);
  return UdpSocket(std::move(ref));
}

UdpSocket& UdpSocket::operator=(UdpSocket&& o) noexcept {
  if (this != &o) {
    close();
    s_ = std::move(o.s_);
  }
  return *this;
}

bool UdpSocket::is_open() const { return usable(s_); }

void UdpSocket::close() {
  if (!s_) return;
  if (stack::UdpSock* sk = s_->sk) {
    sk->waker = {};
    sk->tx.sndbuf->on_space = nullptr;
    s_->driver->stack().udp().close(sk);  // frees queued frames and the cork
    s_->kill(std::errc::bad_file_descriptor);
  }
  s_ = StateRef();
}

StackDriver* UdpSocket::driver() const { return s_ ? s_->driver : nullptr; }
stack::UdpSock* UdpSocket::raw() const { return s_ ? s_->sk : nullptr; }

// --- addresses ---

Result<void> UdpSocket::bind(Endpoint local) {
  if (!usable(s_)) return closed_error(s_);
  return stack_of(*s_.get()).udp().bind(*s_->sk, local.addr, local.port);
}

Result<void> UdpSocket::connect(Endpoint remote) {
  if (!usable(s_)) return closed_error(s_);
  return stack_of(*s_.get()).udp().connect(*s_->sk, remote.addr, remote.port);
}

Result<void> UdpSocket::disconnect() {
  if (!usable(s_)) return closed_error(s_);
  stack_of(*s_.get()).udp().disconnect(*s_->sk);
  return {};
}

Result<Endpoint> UdpSocket::local_endpoint() const {
  if (!usable(s_)) return closed_error(s_);
  return Endpoint{s_->sk->local_addr, s_->sk->local_port};
}

Result<Endpoint> UdpSocket::remote_endpoint() const {
  if (!usable(s_)) return closed_error(s_);
  if (!s_->sk->connected) return std::errc::not_connected;
  return Endpoint{s_->sk->remote_addr, s_->sk->remote_port};
}

// --- send ---

namespace {

// try_once until it is not "would block", waiting for send-buffer space in
// between. EAGAIN comes before anything of the datagram is accepted, so a
// cancellation while waiting leaves it unsent.
template <typename F>
Task<Result<size_t>> send_when_room(StateRef s, bool dont_wait, F try_once) {
  std::optional<rt::TimePoint> deadline;
  bool expired = false;
  for (;;) {
    if (!usable(s)) co_return closed_error(s);
    SendCounts counts(*s.get());
    Result<size_t> r = try_once(*s.get());
    if (r || !is_again(r.error()) || !usable(s) || !send_buffer_full(*s->sk) || expired ||
        !may_wait(*s.get(), dont_wait)) {
      if (r) xmit_now(*s.get());
      co_return r;
    }
    counts.give_back();
    Result<void> w = co_await call_wait(s->writers, s->send_timeout, deadline);
    if (!w) {
      if (w.error() != std::errc::timed_out) co_return w.error();
      expired = true;
    }
  }
}

}  // namespace

Task<Result<size_t>> UdpSocket::send_impl(StateRef s, std::optional<Endpoint> dest,
                                          std::span<const std::byte> data, SendOptions opts) {
  return send_when_room(std::move(s), opts.dont_wait,
                        [dest, data, opts](SocketState& st) { return send_now(st, dest, data, opts); });
}

Task<Result<size_t>> UdpSocket::send_to(Endpoint dest, std::span<const std::byte> data, SendOptions opts) {
  return send_impl(s_, dest, data, opts);
}

Task<Result<size_t>> UdpSocket::send(std::span<const std::byte> data, SendOptions opts) {
  return send_impl(s_, std::nullopt, data, opts);
}

Result<size_t> UdpSocket::try_send_to(Endpoint dest, std::span<const std::byte> data, SendOptions opts) {
  if (!usable(s_)) return closed_error(s_);
  Result<size_t> r = send_now(*s_.get(), dest, data, opts);
  if (r) xmit_now(*s_.get());
  return r;
}

Task<Result<size_t>> UdpSocket::send_to(Endpoint dest, const Datagram& datagram, SendOptions opts) {
  return send_when_room(s_, opts.dont_wait, [dest, &datagram, opts](SocketState& st) {
    return send_gather_now(st, dest, datagram, opts);
  });
}

Result<size_t> UdpSocket::try_send_to(Endpoint dest, const Datagram& datagram, SendOptions opts) {
  if (!usable(s_)) return closed_error(s_);
  Result<size_t> r = send_gather_now(*s_.get(), dest, datagram, opts);
  if (r) xmit_now(*s_.get());
  return r;
}

Result<size_t> UdpSocket::try_send(std::span<const std::byte> data, SendOptions opts) {
  if (!usable(s_)) return closed_error(s_);
  Result<size_t> r = send_now(*s_.get(), std::nullopt, data, opts);
  if (r) xmit_now(*s_.get());
  return r;
}

Task<Result<size_t>> UdpSocket::send_batch_impl(StateRef s, std::span<const OutDatagram> msgs) {
  size_t sent = 0;
  std::optional<rt::TimePoint> deadline;
  bool expired = false;
  while (sent < msgs.size()) {
    if (!usable(s)) break;
    const OutDatagram& m = msgs[sent];
    SendCounts counts(*s.get());
    Result<size_t> r = send_now(*s.get(), m.dest, m.payload, m.options);
    if (r) {
      ++sent;
      continue;
    }
    if (is_again(r.error()) && usable(s) && send_buffer_full(*s->sk) && !expired &&
        may_wait(*s.get(), m.options.dont_wait)) {
      counts.give_back();
      Result<void> w = co_await call_wait(s->writers, s->send_timeout, deadline);
      if (w) continue;
      if (w.error() == std::errc::timed_out) {
        expired = true;
        continue;
      }
      if (sent == 0) co_return w.error();
      break;
    }
    if (sent == 0) co_return r.error();
    break;
  }
  if (sent == 0 && !msgs.empty()) co_return closed_error(s);
  if (s) xmit_now(*s.get());
  co_return sent;
}

Task<Result<size_t>> UdpSocket::send_batch(std::span<const OutDatagram> msgs) {
  return send_batch_impl(s_, msgs);
}

Result<size_t> UdpSocket::try_send_batch(std::span<const OutDatagram> msgs) {
  if (!usable(s_)) return closed_error(s_);
  size_t sent = 0;
  for (const OutDatagram& m : msgs) {
    Result<size_t> r = send_now(*s_.get(), m.dest, m.payload, m.options);
    if (!r) {
      if (sent == 0) return r.error();
      break;
    }
    ++sent;
  }
  xmit_now(*s_.get());
  return sent;
}

// --- receive ---

Task<Result<RecvResult>> UdpSocket::recv_from_impl(StateRef s, std::span<std::byte> buf, RecvFlags flags) {
  std::optional<rt::TimePoint> deadline;
  bool expired = false;
  for (;;) {
    if (!usable(s)) co_return closed_error(s);
    Result<RecvResult> r = recv_now(*s.get(), buf, flags);
    if (r || !is_again(r.error()) || expired || !may_wait(*s.get(), flags.dont_wait)) {
      pass_reader_baton(*s.get());
      co_return r;
    }
    // Only a signal: the datagram stays queued until this coroutine runs
    // again and takes it, so a cancelled wait loses nothing.
    Result<void> w = co_await call_wait(s->readers, s->recv_timeout, deadline);
    if (!w) {
      if (w.error() != std::errc::timed_out) co_return w.error();
      expired = true;
    }
  }
}

Task<Result<RecvResult>> UdpSocket::recv_from(std::span<std::byte> buf, RecvFlags flags) {
  return recv_from_impl(s_, buf, flags);
}

Result<RecvResult> UdpSocket::try_recv_from(std::span<std::byte> buf, RecvFlags flags) {
  if (!usable(s_)) return closed_error(s_);
  return recv_now(*s_.get(), buf, flags);
}

Task<Result<Datagram>> UdpSocket::recv_impl(StateRef s, RecvFlags flags) {
  // A zero-copy peek would have to share frames: not offered (recv_from with
  // RecvFlags::peek copies).
  if (flags.peek) co_return std::errc::invalid_argument;
  std::optional<rt::TimePoint> deadline;
  bool expired = false;
  for (;;) {
    if (!usable(s)) co_return closed_error(s);
    Result<Datagram> r = take_datagram(*s.get());
    if (r || !is_again(r.error()) || expired || !may_wait(*s.get(), flags.dont_wait)) {
      pass_reader_baton(*s.get());
      co_return r;
    }
    Result<void> w = co_await call_wait(s->readers, s->recv_timeout, deadline);
    if (!w) {
      if (w.error() != std::errc::timed_out) co_return w.error();
      expired = true;
    }
  }
}

Task<Result<Datagram>> UdpSocket::recv(RecvFlags flags) { return recv_impl(s_, flags); }

Result<Datagram> UdpSocket::try_recv() {
  if (!usable(s_)) return closed_error(s_);
  return take_datagram(*s_.get());
}

Task<Result<size_t>> UdpSocket::recv_batch_impl(StateRef s, std::span<Datagram> out, RecvFlags flags) {
  if (flags.peek) co_return std::errc::invalid_argument;
  if (out.empty()) co_return size_t{0};
  std::optional<rt::TimePoint> deadline;
  bool expired = false;
  for (;;) {
    if (!usable(s)) co_return closed_error(s);
    Result<size_t> r = take_batch(*s.get(), out);
    if (r || !is_again(r.error()) || expired || !may_wait(*s.get(), flags.dont_wait)) {
      pass_reader_baton(*s.get());
      co_return r;
    }
    Result<void> w = co_await call_wait(s->readers, s->recv_timeout, deadline);
    if (!w) {
      if (w.error() != std::errc::timed_out) co_return w.error();
      expired = true;
    }
  }
}

Task<Result<size_t>> UdpSocket::recv_batch(std::span<Datagram> out, RecvFlags flags) {
  return recv_batch_impl(s_, out, flags);
}

Result<size_t> UdpSocket::try_recv_batch(std::span<Datagram> out) {
  if (!usable(s_)) return closed_error(s_);
  if (out.empty()) return size_t{0};
  return take_batch(*s_.get(), out);
}

size_t UdpSocket::queued() const { return usable(s_) ? s_->sk->rxq.size() : 0; }

// --- errors ---

Task<Result<SockError>> UdpSocket::recv_error_impl(StateRef s, RecvFlags flags) {
  std::optional<rt::TimePoint> deadline;
  bool expired = false;
  for (;;) {
    if (!usable(s)) co_return closed_error(s);
    Result<SockError> r = stack::udp_recv_error(*s->sk);
    if (r || !is_again(r.error()) || expired || !may_wait(*s.get(), flags.dont_wait)) {
      if (usable(s) && !s->sk->errq.empty() && !s->errors.empty()) s->errors.wake_one();
      co_return r;
    }
    Result<void> w = co_await call_wait(s->errors, s->recv_timeout, deadline);
    if (!w) {
      if (w.error() != std::errc::timed_out) co_return w.error();
      expired = true;
    }
  }
}

Task<Result<SockError>> UdpSocket::recv_error(RecvFlags flags) { return recv_error_impl(s_, flags); }

Result<SockError> UdpSocket::try_recv_error() {
  if (!usable(s_)) return closed_error(s_);
  return stack::udp_recv_error(*s_->sk);
}

std::error_code UdpSocket::take_error() {
  if (!usable(s_)) return std::make_error_code(closed_error(s_));
  const std::errc e = stack::udp_sock_error(*s_->sk);
  if (e == std::errc{}) return {};
  return std::make_error_code(e);
}

// --- options ---

#define XNET_SOCK_OR_RETURN()                   \
  if (!usable(s_)) return closed_error(s_);     \
  stack::UdpSock& sk = *s_->sk

Result<void> UdpSocket::set_nonblocking(bool on) {
  if (!usable(s_)) return closed_error(s_);
  s_->nonblocking = on;
  return {};
}

namespace {

// sock_set_timeout: 0 waits forever; a negative value makes every wait
// expire at once (Linux stores a timeo of 0, i.e. EAGAIN without waiting).
std::optional<rt::Duration> socket_timeout(std::chrono::microseconds t) {
  if (t.count() == 0) return std::nullopt;
  if (t.count() < 0) return rt::Duration::zero();
  return std::chrono::duration_cast<rt::Duration>(t);
}

}  // namespace

Result<void> UdpSocket::set_recv_timeout(std::chrono::microseconds timeout) {
  if (!usable(s_)) return closed_error(s_);
  s_->recv_timeout = socket_timeout(timeout);
  return {};
}

Result<void> UdpSocket::set_send_timeout(std::chrono::microseconds timeout) {
  if (!usable(s_)) return closed_error(s_);
  s_->send_timeout = socket_timeout(timeout);
  return {};
}

Result<void> UdpSocket::set_ttl(int ttl) {
  XNET_SOCK_OR_RETURN();
  return stack::udp_set_ttl(sk, ttl);
}

Result<void> UdpSocket::set_tos(int tos) {
  XNET_SOCK_OR_RETURN();
  return stack::udp_set_tos(sk, tos);
}

Result<void> UdpSocket::set_broadcast(bool on) {
  XNET_SOCK_OR_RETURN();
  stack::udp_set_broadcast(sk, on);
  return {};
}

Result<void> UdpSocket::set_recv_buffer(int bytes) {
  XNET_SOCK_OR_RETURN();
  return stack::udp_set_rcvbuf(sk, bytes);
}

Result<void> UdpSocket::set_send_buffer(int bytes) {
  XNET_SOCK_OR_RETURN();
  Result<void> r = stack::udp_set_sndbuf(sk, bytes);
  s_->writers.wake_all();  // a larger buffer may have room now: writers retry
  return r;
}

Result<void> UdpSocket::set_reuse_address(bool on) {
  XNET_SOCK_OR_RETURN();
  stack::udp_set_reuse_addr(sk, on);
  return {};
}

Result<void> UdpSocket::set_reuse_port(bool on) {
  XNET_SOCK_OR_RETURN();
  stack::udp_set_reuse_port(sk, on);
  return {};
}

Result<void> UdpSocket::set_no_check(bool on) {
  XNET_SOCK_OR_RETURN();
  stack::udp_set_no_check_tx(sk, on);
  return {};
}

Result<void> UdpSocket::set_dont_route(bool on) {
  XNET_SOCK_OR_RETURN();
  stack::udp_set_dont_route(sk, on);
  return {};
}

Result<void> UdpSocket::set_pmtu_discovery(PmtuDisc mode) {
  XNET_SOCK_OR_RETURN();
  stack::udp_set_pmtudisc(sk, mode);
  return {};
}

Result<void> UdpSocket::set_gso_size(int size) {
  XNET_SOCK_OR_RETURN();
  return stack::udp_set_gso_size(sk, size);
}

Result<void> UdpSocket::set_cork(bool on) {
  XNET_SOCK_OR_RETURN();
  return stack::udp_set_cork(stack_of(*s_.get()), sk, on, rt::Reactor::now());
}

Result<void> UdpSocket::set_multicast_ttl(int ttl) {
  XNET_SOCK_OR_RETURN();
  return stack::udp_set_multicast_ttl(sk, ttl);
}

Result<void> UdpSocket::set_multicast_if(Ipv4Addr addr, uint16_t ifindex) {
  XNET_SOCK_OR_RETURN();
  stack::udp_set_multicast_if(sk, addr, ifindex);
  return {};
}

Result<void> UdpSocket::set_recv_errors(bool on) {
  XNET_SOCK_OR_RETURN();
  stack::udp_set_recverr(sk, on);
  return {};
}

Result<void> UdpSocket::join_group(Ipv4Addr group, Ipv4Addr if_address, uint16_t ifindex) {
  XNET_SOCK_OR_RETURN();
  return stack::udp_join_group(stack_of(*s_.get()), sk, {group, if_address, ifindex});
}

Result<void> UdpSocket::leave_group(Ipv4Addr group, Ipv4Addr if_address, uint16_t ifindex) {
  XNET_SOCK_OR_RETURN();
  return stack::udp_leave_group(stack_of(*s_.get()), sk, {group, if_address, ifindex});
}

Result<void> UdpSocket::bind_to_interface(uint16_t ifindex) {
  XNET_SOCK_OR_RETURN();
  return stack::udp_bind_to_device(stack_of(*s_.get()), sk, ifindex);
}

#undef XNET_SOCK_OR_RETURN

Result<uint32_t> UdpSocket::mtu() const {
  if (!usable(s_)) return closed_error(s_);
  return stack::udp_get_mtu(stack_of(*s_.get()), *s_->sk, s_->driver->reactor().loop_time());
}

uint32_t UdpSocket::send_buffer_used() const { return usable(s_) ? s_->sk->tx.sndbuf->allocated : 0; }
uint32_t UdpSocket::send_buffer_limit() const { return usable(s_) ? s_->sk->tx.sndbuf->limit : 0; }

}  // namespace xnet
