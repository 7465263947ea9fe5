#include "runtime/result.h"

#include <gtest/gtest.h>

#include <memory>

namespace xnet {
namespace {

TEST(Result, HoldsValueOrError) {
  Result<int> good = 7;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  Result<int> bad = std::errc::message_size;
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), std::errc::message_size);
}

TEST(Result, MoveOnlyValue) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(3);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 3);
}

TEST(Result, VoidResult) {
  Result<void> ok;
  EXPECT_TRUE(ok.ok());
  Result<void> err = std::errc::invalid_argument;
  EXPECT_EQ(err.error(), std::errc::invalid_argument);
}

}  // namespace
}  // namespace xnet
