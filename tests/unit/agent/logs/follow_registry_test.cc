#include "agent/logs/follow_registry.h"

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace zagent {
namespace {

/// Records what it gets, as "id:data" or "id:truncated"; may run a hook on each call.
class FakeFollower final : public LogFollower {
 public:
  void log_appended(FollowId follow, std::string_view data) override {
    seen.push_back(std::to_string(follow) + ":" + std::string(data));
    if (on_call) {
      on_call(follow);
    }
  }
  void log_truncated(FollowId follow) override {
    seen.push_back(std::to_string(follow) + ":truncated");
    if (on_call) {
      on_call(follow);
    }
  }

  std::vector<std::string> seen;
  std::function<void(FollowId)> on_call;
};

using Seen = std::vector<std::string>;

TEST(FollowRegistry, NobodyFollowsNothingHappens) {
  FollowRegistry registry;
  registry.publish("/log/a", "data");
  registry.publish_truncated("/log/a");
  EXPECT_EQ(registry.size(), 0U);
}

TEST(FollowRegistry, DataGoesOnlyToFollowsOfThatFile) {
  FollowRegistry registry;
  FakeFollower a;
  FakeFollower b;
  const FollowId fa = registry.follow("/log/a", a);
  const FollowId fb = registry.follow("/log/b", b);
  EXPECT_NE(fa, fb);
  registry.publish("/log/a", "one");
  registry.publish("/log/b", "two");
  registry.publish("/log/c", "three");
  EXPECT_EQ(a.seen, Seen({std::to_string(fa) + ":one"}));
  EXPECT_EQ(b.seen, Seen({std::to_string(fb) + ":two"}));
  EXPECT_EQ(registry.count("/log/a"), 1U);
  EXPECT_EQ(registry.count("/log/c"), 0U);
}

TEST(FollowRegistry, EmptyDataIsIgnored) {
  FollowRegistry registry;
  FakeFollower a;
  registry.follow("/log/a", a);
  registry.publish("/log/a", "");
  EXPECT_TRUE(a.seen.empty());
}

TEST(FollowRegistry, TruncationGoesToEachFollowOfTheFile) {
  FollowRegistry registry;
  FakeFollower a;
  const FollowId f1 = registry.follow("/log/a", a);
  const FollowId f2 = registry.follow("/log/a", a);
  registry.follow("/log/b", a);
  registry.publish_truncated("/log/a");
  EXPECT_EQ(a.seen, Seen({std::to_string(f1) + ":truncated", std::to_string(f2) + ":truncated"}));
}

TEST(FollowRegistry, OneFollowerTwiceOnOneFileGetsBothInOrder) {
  FollowRegistry registry;
  FakeFollower a;
  FakeFollower b;
  const FollowId f1 = registry.follow("/log/a", a);
  const FollowId f2 = registry.follow("/log/a", b);
  const FollowId f3 = registry.follow("/log/a", a);
  registry.publish("/log/a", "x");
  EXPECT_EQ(a.seen, Seen({std::to_string(f1) + ":x", std::to_string(f3) + ":x"}));
  EXPECT_EQ(b.seen, Seen({std::to_string(f2) + ":x"}));
}

TEST(FollowRegistry, UnfollowEndsOneFollow) {
  FollowRegistry registry;
  FakeFollower a;
  const FollowId f1 = registry.follow("/log/a", a);
  const FollowId f2 = registry.follow("/log/a", a);
  registry.unfollow(f1);
  registry.unfollow(f1);      // twice: ignored
  registry.unfollow(12345);   // unknown: ignored
  registry.publish("/log/a", "x");
  EXPECT_EQ(a.seen, Seen({std::to_string(f2) + ":x"}));
  EXPECT_EQ(registry.size(), 1U);
}

TEST(FollowRegistry, UnfollowAllEndsOnlyThatFollowersFollows) {
  FollowRegistry registry;
  FakeFollower a;
  FakeFollower b;
  registry.follow("/log/a", a);
  registry.follow("/log/b", a);
  const FollowId fb = registry.follow("/log/a", b);
  registry.unfollow_all(a);
  EXPECT_EQ(registry.size(), 1U);
  registry.publish("/log/a", "x");
  registry.publish("/log/b", "y");
  EXPECT_TRUE(a.seen.empty());
  EXPECT_EQ(b.seen, Seen({std::to_string(fb) + ":x"}));
}

TEST(FollowRegistry, IdsAreNotReused) {
  FollowRegistry registry;
  FakeFollower a;
  const FollowId f1 = registry.follow("/log/a", a);
  registry.unfollow(f1);
  const FollowId f2 = registry.follow("/log/a", a);
  EXPECT_NE(f1, f2);
  EXPECT_NE(f2, 0U);
}

// A session closed by its own send (it stopped reading) ends all its follows mid-delivery.
TEST(FollowRegistry, FollowerEndingItsFollowsDuringDeliveryGetsNoMore) {
  FollowRegistry registry;
  FakeFollower a;
  FakeFollower b;
  registry.follow("/log/a", a);
  registry.follow("/log/a", a);
  const FollowId fb = registry.follow("/log/a", b);
  a.on_call = [&](FollowId) { registry.unfollow_all(a); };
  registry.publish("/log/a", "x");
  EXPECT_EQ(a.seen.size(), 1U);
  EXPECT_EQ(b.seen, Seen({std::to_string(fb) + ":x"}));
  EXPECT_EQ(registry.size(), 1U);
}

TEST(FollowRegistry, FollowEndedByAnotherDuringDeliveryIsSkipped) {
  FollowRegistry registry;
  FakeFollower a;
  FakeFollower b;
  registry.follow("/log/a", a);
  const FollowId fb = registry.follow("/log/a", b);
  a.on_call = [&](FollowId) { registry.unfollow(fb); };
  registry.publish("/log/a", "x");
  EXPECT_TRUE(b.seen.empty());
  EXPECT_EQ(registry.count("/log/a"), 1U);
}

TEST(FollowRegistry, FollowBegunDuringDeliveryStartsWithTheNextData) {
  FollowRegistry registry;
  FakeFollower a;
  FakeFollower b;
  registry.follow("/log/a", a);
  FollowId fb = 0;
  a.on_call = [&](FollowId) {
    if (fb == 0) {
      fb = registry.follow("/log/a", b);
    }
  };
  registry.publish("/log/a", "first");
  EXPECT_TRUE(b.seen.empty());
  registry.publish("/log/a", "second");
  EXPECT_EQ(b.seen, Seen({std::to_string(fb) + ":second"}));
}

}  // namespace
}  // namespace zagent
