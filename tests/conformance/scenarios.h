#pragma once
// The scenarios: each written once against Ctx (harness.h), run through the
// kernel and through xnet.

#include <vector>

#include "tests/conformance/harness.h"

namespace xnet::conformance {

// The host sends: sizes, fragmentation, PMTU modes, cork, GSO, cmsgs, errors.
std::vector<Scenario> send_scenarios();
// The peer sends: datagrams, fragments, malformed headers, options, ICMP, ARP.
std::vector<Scenario> receive_scenarios();

}  // namespace xnet::conformance
