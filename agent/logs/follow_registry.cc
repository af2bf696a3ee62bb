#include "agent/logs/follow_registry.h"

#include <algorithm>
#include <utility>

namespace zagent {

FollowId FollowRegistry::follow(std::string path, LogFollower& follower) {
  const FollowId id = ++last_id_;
  follows_.emplace(id, Follow{std::move(path), &follower});
  return id;
}

void FollowRegistry::unfollow(FollowId id) { follows_.erase(id); }

void FollowRegistry::unfollow_all(const LogFollower& follower) {
  std::erase_if(follows_, [&](const auto& entry) { return entry.second.follower == &follower; });
}

std::size_t FollowRegistry::count(const std::string& path) const {
  return static_cast<std::size_t>(std::count_if(
      follows_.begin(), follows_.end(), [&](const auto& entry) { return entry.second.path == path; }));
}

template <typename Deliver>
void FollowRegistry::deliver(const std::string& path, Deliver&& deliver) {
  // A follower may end follows while it is called (a session that stopped reading is closed
  // by the send, which ends all of its follows), so no iterator is held across a call: the
  // next follow is looked up again by id. Follows begun meanwhile (id > last) are left out.
  const FollowId last = last_id_;
  for (auto it = follows_.begin(); it != follows_.end() && it->first <= last;) {
    const FollowId id = it->first;
    if (it->second.path == path) {
      deliver(*it->second.follower, id);
    }
    it = follows_.upper_bound(id);
  }
}

void FollowRegistry::publish(const std::string& path, std::string_view data) {
  if (follows_.empty() || data.empty()) {
    return;  // the common case: nobody follows anything
  }
  deliver(path, [data](LogFollower& follower, FollowId id) { follower.log_appended(id, data); });
}

void FollowRegistry::publish_truncated(const std::string& path) {
  if (follows_.empty()) {
    return;
  }
  deliver(path, [](LogFollower& follower, FollowId id) { follower.log_truncated(id); });
}

}  // namespace zagent
