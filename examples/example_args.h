#pragma once
// Tiny argument handling shared by the examples: `--dev IF --addr A.B.C.D/N`
// (or `--dev IF --shared`: the kernel's address on IF, README "Sharing the
// host's address") and a few named values. The examples stay about the socket API; the xnet
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
    for (int i = 1; i < argc; ++i) {
      const std::string name = argv[i];
      if (name == "--shared") {
        values_[name] = "1";  // the one flag: takes no value
      } else if (i + 1 < argc) {
        values_[name] = argv[++i];
      }
    }
  }
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  long number(const std::string& name, long fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : std::strtol(it->second.c_str(), nullptr, 10);
  }
  // --dev and --addr (or --shared) as ServiceOptions; exits with a usage
  // line when missing.
  ServiceOptions service(const char* usage) const {
    ServiceOptions o;
    o.dev = get("--dev");
    o.shared = has("--shared");
    auto addr = wire::Ipv4Prefix::parse(get("--addr"));
    if (o.dev.empty() || (o.shared == addr.has_value())) {
      std::fprintf(stderr, "usage: %s\n  (--shared instead of --addr: the kernel's address on IF)\n", usage);
      std::exit(2);
    }
    if (addr) o.addr = *addr;
    o.queues = static_cast<uint32_t>(number("--queues", 0));  // 0: every receive queue
    o.control = false;  // examples leave `xnet stats` to the xnet command
    return o;
  }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace xnet::examples
