// The kernel's own limits (kernel.hpp, docs/kernel.md "Capacity word"): what it refuses, with
// which error, and that a refusal changes nothing.

#include <gtest/gtest.h>

#include "router_harness.hpp"
#include "switchboard/kernel.hpp"

namespace switchboard::testing {
namespace {

Kernel make_kernel(Config config) {
  Result<Kernel> kernel = Kernel::create(std::move(config));
  EXPECT_TRUE(kernel.has_value()) << kernel.error().message;
  return std::move(kernel).value();
}

TEST(KernelLimits, MoreThanFourProfilesIsRefusedAtCreation) {
  Config config = base_config();
  while (config.profiles.size() <= kKernelMaxProfiles) {
    config.profiles.push_back(ProfileConfig{"extra" + std::to_string(config.profiles.size()), false});
  }
  const Result<Kernel> kernel = Kernel::create(config);
  ASSERT_FALSE(kernel.has_value());
  EXPECT_EQ(kernel.error().code, ErrorCode::config_invalid_value);
  EXPECT_NE(kernel.error().message.find("at most 4"), std::string::npos) << kernel.error().message;
}

TEST(KernelLimits, ASeedAboveTheProfileCapacityLimitIsRefusedAtCreation) {
  Config config = base_config();
  AgentSeed seed;
  seed.id = ExternalId(1);
  seed.capacity.profile_max = {kKernelMaxProfileCapacity + 1, 0};
  config.agents.push_back(seed);
  const Result<Kernel> kernel = Kernel::create(config);
  ASSERT_FALSE(kernel.has_value());
  EXPECT_EQ(kernel.error().code, ErrorCode::config_invalid_value);
}

TEST(KernelLimits, ACapacityChangeAboveTheLimitIsAnErrorThatChangesNothing) {
  Kernel kernel = make_kernel(base_config());
  std::vector<Decision> out;
  AgentUpsert upsert;
  upsert.agent = ExternalId(7);
  upsert.capacity = AgentCapacity{2, {3, 1}};
  kernel.apply(Event{0, 1, upsert}, out);
  ASSERT_TRUE(out.empty());
  kernel.apply(Event{1, 2, CapacityChange{ExternalId(7), AgentCapacity{2, {256, 1}}}}, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, DecisionKind::error);
  EXPECT_EQ(out[0].error, ErrorCode::invalid_value);
  EXPECT_EQ(out[0].sequence, 2u);
  EXPECT_EQ(kernel.agent(ExternalId(7))->capacity.profile_max, (std::vector<std::int32_t>{3, 1}));
  EXPECT_EQ(kernel.check_invariants(), "");
}

TEST(KernelLimits, ASeedNamingAnUndeclaredQueueIsRefusedAtCreation) {
  Config config = base_config();
  AgentSeed seed;
  seed.id = ExternalId(1);
  seed.queues = {3};  // base_config declares no queues
  config.agents.push_back(seed);
  const Result<Kernel> kernel = Kernel::create(config);
  ASSERT_FALSE(kernel.has_value());
  EXPECT_EQ(kernel.error().code, ErrorCode::config_invalid_value);
}

TEST(KernelLimits, ConfigurationKeepsEverythingButTheSeeds) {
  Config config = base_config();
  add_queue(config, "support", kChat);
  AgentSeed seed;
  seed.id = ExternalId("ana");
  seed.queues = {0};
  config.agents.push_back(seed);
  const std::size_t queues = config.queues.size();
  Kernel kernel = make_kernel(config);
  EXPECT_TRUE(kernel.config().agents.empty());
  EXPECT_EQ(kernel.config().queues.size(), queues);
  ASSERT_TRUE(kernel.agent(ExternalId("ana")).has_value());
  EXPECT_EQ(kernel.agent(ExternalId("ana"))->queues, (std::vector<QueueId>{0}));
}

TEST(KernelFootprint, HotColumnsFitTheBudgetOf128BytesPerAgent) {
  Config config = base_config();
  for (std::uint64_t a = 1; a <= 100; ++a) {
    AgentSeed seed;
    seed.id = ExternalId(a);
    config.agents.push_back(seed);
  }
  const Kernel kernel = make_kernel(config);
  const KernelFootprint f = kernel.footprint();
  EXPECT_EQ(f.agents, 100u);
  EXPECT_LE(f.hot_bytes_per_agent, 128u);
  EXPECT_GE(f.total_bytes, f.agents * f.hot_bytes_per_agent);
}

}  // namespace
}  // namespace switchboard::testing
