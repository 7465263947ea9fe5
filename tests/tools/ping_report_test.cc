// `xnet ping`'s report adds up: sent = received + lost + in flight.

#include "tools/ping_report.h"

#include <gtest/gtest.h>

namespace xnet::tools {
namespace {

TEST(PingReport, SaysWhatWasStillInFlight) {
  PingTally t;
  t.sent = 10;
  t.lost = 9;  // nine timed out; the tenth was waiting when the run ended
  const std::string r = format_ping_report("ping", t);
  EXPECT_NE(r.find("sent 10  received 0  lost 9 (90.00%)  in flight 1"), std::string::npos) << r;
}

TEST(PingReport, NothingInFlightSaysNothing) {
  PingTally t;
  t.sent = 5;
  t.received = 4;
  t.lost = 1;
  const std::string r = format_ping_report("ping", t);
  EXPECT_NE(r.find("sent 5  received 4  lost 1 (20.00%)\n"), std::string::npos) << r;
  EXPECT_EQ(r.find("in flight"), std::string::npos) << r;
}

}  // namespace
}  // namespace xnet::tools
