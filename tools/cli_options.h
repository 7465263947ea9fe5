#pragma once
// Option parsing shared by the subcommands: addresses and endpoints with
// errors that say what was expected.

#include <optional>
#include <string>

#include "stack/wire/addr.h"
#include "host/service_host.h"

namespace xnet::tools {

struct EndpointArg {
  wire::Ipv4Addr addr;
  uint16_t port = 7;
};

// "a.b.c.d/len"
std::optional<wire::Ipv4Prefix> parse_prefix_arg(const std::string& text, std::string* error);
// --dev, --addr A.B.C.D/N and an optional --gateway (empty: none) into `o`.
bool parse_service_args(const std::string& dev, const std::string& addr, const std::string& gateway,
                        ServiceOptions& o, std::string* error);
// The same with --shared: then the kernel's address(es) on --dev are used and
// --addr must be left out; without it --addr is required.
bool parse_service_args(const std::string& dev, const std::string& addr, const std::string& gateway, bool shared,
                        ServiceOptions& o, std::string* error);
// "a.b.c.d" or "a.b.c.d:port" (default port 7, the echo service)
std::optional<EndpointArg> parse_endpoint_arg(const std::string& text, std::string* error);

}  // namespace xnet::tools
