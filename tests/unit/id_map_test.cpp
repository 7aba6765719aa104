// IdMap (id_map.hpp): the kernel's id lookups. Checked against std::unordered_map over random
// inserts and erases (backward-shift deletion is where open addressing usually goes wrong).

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

#include "switchboard/id_map.hpp"

namespace switchboard {
namespace {

TEST(IdMap, NumbersAndNamesAreDistinctKeys) {
  IdMap<int> map;
  EXPECT_TRUE(map.try_emplace(ExternalId(7), 1).second);
  EXPECT_TRUE(map.try_emplace(ExternalId("7"), 2).second);
  EXPECT_FALSE(map.try_emplace(ExternalId(7), 3).second);
  EXPECT_EQ(*map.find(ExternalId(7)), 1);
  EXPECT_EQ(*map.find(ExternalId("7")), 2);
  EXPECT_EQ(map.size(), 2u);
  map.insert_or_assign(ExternalId(7), 9);
  EXPECT_EQ(*map.find(ExternalId(7)), 9);
  EXPECT_TRUE(map.erase(ExternalId("7")));
  EXPECT_EQ(map.find(ExternalId("7")), nullptr);
  EXPECT_FALSE(map.erase(ExternalId(8)));
}

TEST(IdMap, AgreesWithUnorderedMapOverRandomInsertsAndErases) {
  std::mt19937_64 rng(12345);
  IdMap<std::uint32_t> map;
  std::unordered_map<std::uint64_t, std::uint32_t> model;
  for (int step = 0; step < 200'000; ++step) {
    // Few distinct keys, so probe runs collide and wrap; some keys are huge.
    const std::uint64_t key = (rng() % 3 == 0) ? rng() : rng() % 512;
    const auto value = static_cast<std::uint32_t>(step);
    switch (rng() % 3) {
      case 0: {
        const bool inserted = map.try_emplace(ExternalId(key), value).second;
        EXPECT_EQ(inserted, model.try_emplace(key, value).second);
        break;
      }
      case 1: EXPECT_EQ(map.erase(ExternalId(key)), model.erase(key) > 0); break;
      default: {
        const std::uint32_t* found = map.find(ExternalId(key));
        const auto it = model.find(key);
        ASSERT_EQ(found != nullptr, it != model.end()) << "step " << step << " key " << key;
        if (found) {
          EXPECT_EQ(*found, it->second);
        }
      }
    }
    ASSERT_EQ(map.size(), model.size());
  }
  std::size_t seen = 0;
  map.for_each([&](const ExternalId& id, std::uint32_t v) {
    ++seen;
    EXPECT_EQ(model.at(id.number()), v);
  });
  EXPECT_EQ(seen, model.size());
  map.clear();
  EXPECT_EQ(map.size(), 0u);
  EXPECT_EQ(map.find(ExternalId(std::uint64_t{1})), nullptr);
}

}  // namespace
}  // namespace switchboard
