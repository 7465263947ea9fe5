#pragma once
// Tiny argument handling shared by the examples: `--dev IF --addr A.B.C.D/N`
// and a few named values. The examples stay about the socket API; the xnet
// command (tools/) shows full CLI handling.

#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>

#include "stack/wire/addr.h"
#include "host/service_host.h"

namespace xnet::examples {

class Args {
 public:
  Args(int argc, char** argv) {
    for (int i = 1; i + 1 < argc; i += 2) values_[argv[i]] = argv[i + 1];
  }
  std::string get(const std::string& name, const std::string& fallback = "") const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  long number(const std::string& name, long fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : std::strtol(it->second.c_str(), nullptr, 10);
  }
  // --dev and --addr as ServiceOptions; exits with a usage line when missing.
  ServiceOptions service(const char* usage) const {
    ServiceOptions o;
    o.dev = get("--dev");
    auto addr = wire::Ipv4Prefix::parse(get("--addr"));
    if (o.dev.empty() || !addr) {
      std::fprintf(stderr, "usage: %s\n", usage);
      std::exit(2);
    }
    o.addr = *addr;
    o.queues = static_cast<uint32_t>(number("--queues", 0));  // 0: every receive queue
    o.control = false;  // examples leave `xnet stats` to the xnet command
    return o;
  }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace xnet::examples
