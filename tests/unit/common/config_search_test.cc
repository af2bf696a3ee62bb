#include "common/config_search.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace zagent {
namespace {

using ::testing::ElementsAre;

TEST(ConfigSearch, OrderIsZagentThenSupervisord) {
  EXPECT_THAT(config_search_paths("/usr/bin/zagent"),
              ElementsAre("zagent.conf", "/etc/zagent/zagent.conf", "/usr/etc/supervisord.conf",
                          "/usr/supervisord.conf", "supervisord.conf", "etc/supervisord.conf",
                          "/etc/supervisord.conf", "/etc/supervisor/supervisord.conf"));
}

TEST(ConfigSearch, FirstExistingWins) {
  const auto candidates = config_search_paths("/opt/z/bin/zagent");
  auto found = find_first(candidates, [](const std::string& p) {
    return p == "/etc/supervisor/supervisord.conf" || p == "/opt/z/etc/supervisord.conf";
  });
  EXPECT_EQ(found, "/opt/z/etc/supervisord.conf");
  EXPECT_EQ(find_first(candidates, [](const std::string&) { return false; }), std::nullopt);
}

TEST(ConfigSearch, NotFoundMessage) {
  EXPECT_EQ(no_config_found_message({"a.conf", "/b.conf"}),
            "No config file found at default paths (a.conf, /b.conf); use the -c option to "
            "specify a config file at a different path");
}

}  // namespace
}  // namespace zagent

TEST(DefaultSocketPath, RootUsesRun) {
  EXPECT_EQ(zagent::default_socket_path(0, "/run/user/0"), "/run/zagent.sock");
}

TEST(DefaultSocketPath, UserPrefersXdgRuntimeDir) {
  EXPECT_EQ(zagent::default_socket_path(1000, "/run/user/1000"), "/run/user/1000/zagent.sock");
  EXPECT_EQ(zagent::default_socket_path(1000, ""), "/tmp/zagent-1000.sock");
  EXPECT_EQ(zagent::default_socket_path(1000, "relative"), "/tmp/zagent-1000.sock");
}
