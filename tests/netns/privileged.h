#pragma once
// XNET_REQUIRE_PRIVILEGED() for GoogleTest: the test-side glue of //netns.

#include <gtest/gtest.h>

#include <string>

#include "netns/netns.h"

// Use at the top of a privileged TEST: skips when not root (with the reason),
// fails instead when XNET_REQUIRE_PRIVILEGED=1.
#define XNET_REQUIRE_PRIVILEGED()                                                   \
  do {                                                                              \
    const std::string xnet_skip_reason_ = ::xnet::netns::privileged_skip_reason(); \
    if (!xnet_skip_reason_.empty()) {                                               \
      if (::xnet::netns::privileged_required()) {                                 \
        FAIL() << "XNET_REQUIRE_PRIVILEGED=1 but: " << xnet_skip_reason_;           \
      } else {                                                                      \
        GTEST_SKIP() << xnet_skip_reason_;                                          \
      }                                                                             \
    }                                                                               \
  } while (0)
