#include "tools/cli_options.h"

#include <fmt/format.h>

#include <charconv>

namespace xnet::tools {

std::optional<wire::Ipv4Prefix> parse_prefix_arg(const std::string& text, std::string* error) {
  auto p = wire::Ipv4Prefix::parse(text);
  if (!p || text.find('/') == std::string::npos) {
    *error = fmt::format("'{}' is not an address with a prefix length, e.g. 10.0.0.1/24", text);
    return std::nullopt;
  }
  return p;
}

bool parse_service_args(const std::string& dev, const std::string& addr, const std::string& gateway,
                        ServiceOptions& o, std::string* error) {
  return parse_service_args(dev, addr, gateway, false, o, error);
}

bool parse_service_args(const std::string& dev, const std::string& addr, const std::string& gateway, bool shared,
                        ServiceOptions& o, std::string* error) {
  o.dev = dev;
  o.shared = shared;
  if (shared && !addr.empty()) {
    *error = fmt::format("--shared uses the address the kernel has on {}; leave out --addr {}", dev, addr);
    return false;
  }
  if (!shared && addr.empty()) {
    *error = "--addr A.B.C.D/N is required (an address xnet owns), or --shared to use the kernel's address";
    return false;
  }
  if (!shared) {
    auto prefix = parse_prefix_arg(addr, error);
    if (!prefix) return false;
    o.addr = *prefix;
  }
  if (!gateway.empty()) {
    auto g = wire::Ipv4Addr::parse(gateway);
    if (!g) {
      *error = fmt::format("--gateway '{}' is not an IPv4 address", gateway);
      return false;
    }
    o.gateway = *g;
  }
  return true;
}

std::optional<EndpointArg> parse_endpoint_arg(const std::string& text, std::string* error) {
  EndpointArg ep;
  std::string host = text;
  if (const auto colon = text.find(':'); colon != std::string::npos) {
    host = text.substr(0, colon);
    const std::string port = text.substr(colon + 1);
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc() || ptr != port.data() + port.size() || v == 0 || v > 65535) {
      *error = fmt::format("'{}' is not a port (1-65535)", port);
      return std::nullopt;
    }
    ep.port = static_cast<uint16_t>(v);
  }
  auto a = wire::Ipv4Addr::parse(host);
  if (!a) {
    *error = fmt::format("'{}' is not an IPv4 address, e.g. 10.0.0.1 or 10.0.0.1:7", text);
    return std::nullopt;
  }
  ep.addr = *a;
  return ep;
}

}  // namespace xnet::tools
