// A small multi-shard key/value store over UDP. One datagram per request:
//   "SET <key> <value>" → "STORED"      "GET <key>" → "VALUE <value>" | "NOT_FOUND"
//
//   kv_store --dev veth0 --addr 10.0.0.1/24 [--port 6379] [--queues N] [--seconds S]
//
// Every shard serves the port (a reuseport group: a request is received on
// the shard whose queue it arrived on), while each key lives on one shard,
// chosen by its hash. A request for a key owned elsewhere runs there with
// submit_to and the answer comes back to the receiving shard: no locks, no
// shared tables.

#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_map>

#include "examples/example_args.h"
#include "stack/api/udp_socket.h"

using namespace xnet;

using Table = std::unordered_map<std::string, std::string>;

// Runs on the key's shard: the only code that touches that shard's table.
static std::string execute(Table& table, std::string_view request) {
  const auto sp1 = request.find(' ');
  const std::string_view op = request.substr(0, sp1);
  if (sp1 == std::string_view::npos) return "ERROR usage: GET key | SET key value";
  std::string_view rest = request.substr(sp1 + 1);
  if (op == "GET") {
    auto it = table.find(std::string(rest));
    return it == table.end() ? "NOT_FOUND" : "VALUE " + it->second;
  }
  if (op == "SET") {
    const auto sp2 = rest.find(' ');
    if (sp2 == std::string_view::npos) return "ERROR usage: SET key value";
    table[std::string(rest.substr(0, sp2))] = std::string(rest.substr(sp2 + 1));
    return "STORED";
  }
  return "ERROR unknown command";
}

static std::string_view key_of(std::string_view request) {
  const auto sp1 = request.find(' ');
  if (sp1 == std::string_view::npos) return {};
  std::string_view rest = request.substr(sp1 + 1);
  return rest.substr(0, rest.find(' '));
}

static rt::Task<void> serve(StackDriver& driver, ShardedStacks& stacks, std::vector<Table>& tables, uint16_t port) {
  auto sock = UdpSocket::open(driver);
  if (!sock) co_return;
  (void)sock->set_reuse_port(true);
  if (!sock->bind({Ipv4Addr(), port})) co_return;
  std::array<std::byte, 1500> buf;
  for (;;) {
    auto r = co_await sock->recv_from(buf);
    if (!r) co_return;
    std::string request(reinterpret_cast<const char*>(buf.data()), r->size);
    const unsigned owner = static_cast<unsigned>(std::hash<std::string_view>{}(key_of(request)) % tables.size());
    // Named, not temporaries inside the co_await: GCC 12 mishandles
    // temporaries with destructors in a co_await expression.
    auto on_owner = [&tables, owner, &request](StackDriver&) { return execute(tables[owner], request); };
    auto call = stacks.on_shard(owner, on_owner);
    std::string reply = co_await std::move(call);
    (void)co_await sock->send_to(r->source, std::as_bytes(std::span(reply)));
  }
}

int main(int argc, char** argv) {
  examples::Args args(argc, argv);
  auto options = args.service("kv_store --dev IF --addr A.B.C.D/N [--port 6379] [--queues N] [--seconds S]");
  const auto port = static_cast<uint16_t>(args.number("--port", 6379));
  std::string error;
  auto host = ServiceHost::open(options, &error);
  if (!host) {
    std::fprintf(stderr, "kv_store: %s\n", error.c_str());
    return 1;
  }
  std::vector<Table> tables(host->shard_count());  // tables[i] is touched only on shard i
  ShardedStacks& stacks = host->stacks();
  host->serve([&](StackDriver& d) { return serve(d, stacks, tables, port); });
  std::fprintf(stderr, "kv_store: %s port %u ready, %u shard(s)\n", args.get("--addr").c_str(), port,
               host->shard_count());
  const long seconds = args.number("--seconds", 0);
  host->run(seconds > 0 ? std::optional(std::chrono::milliseconds(seconds * 1000)) : std::nullopt);
  (void)host->stop();
  size_t keys = 0;
  for (const Table& t : tables) keys += t.size();
  std::printf("kv_store: %zu keys on %zu shard(s)\n", keys, tables.size());
  return 0;
}
