// Who follows which log file (tail -f, maintail -f): a child's stdout/stderr log or the main
// log. Fed as data is written (the log capture's on-data callback, the main log's listener);
// hands it to every follower of that file at once, so nothing polls. A follower is any sink
// with the small LogFollower interface: a JSON-RPC session today, an HTTP stream later.
// Pure (no I/O); used on the agent's one event-loop thread only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace zagent {

/// Names one follow: one follower's interest in one file. Never 0, never reused.
using FollowId = std::uint64_t;

/// What a follower receives. Both are called from FollowRegistry::publish*() and may
/// unfollow anything (their own follows included) before they return.
class LogFollower {
 public:
  virtual ~LogFollower() = default;
  /// `data` (never empty) was just appended to the file followed under `follow`.
  virtual void log_appended(FollowId follow, std::string_view data) = 0;
  /// The file followed under `follow` was emptied (clearProcessLogs, clearLog).
  virtual void log_truncated(FollowId follow) = 0;
};

class FollowRegistry {
 public:
  FollowRegistry() = default;
  FollowRegistry(const FollowRegistry&) = delete;
  FollowRegistry& operator=(const FollowRegistry&) = delete;

  /// From now on, what is published for `path` goes to `follower` under the returned id.
  /// `follower` must stay alive until unfollow() of that id or unfollow_all() of itself.
  /// One follower may follow one file more than once (each id gets its own calls).
  FollowId follow(std::string path, LogFollower& follower);
  /// Ends the follow `id`; an unknown or ended id is ignored.
  void unfollow(FollowId id);
  /// Ends every follow of `follower`.
  void unfollow_all(const LogFollower& follower);

  /// `data` was just written to the file at `path`: passed to each of its follows, in the
  /// order they began. Follows that begin during the call do not get this `data`; those that
  /// end during it get no more. Cheap when nobody follows; empty `data` is ignored.
  void publish(const std::string& path, std::string_view data);
  /// The file at `path` was emptied: each of its follows gets log_truncated().
  void publish_truncated(const std::string& path);

  /// Live follows, over all files and followers.
  std::size_t size() const { return follows_.size(); }
  /// Live follows of the file at `path`.
  std::size_t count(const std::string& path) const;

 private:
  struct Follow {
    std::string path;       // the followed file, as the log writers name it
    LogFollower* follower;  // not owned
  };

  template <typename Deliver>
  void deliver(const std::string& path, Deliver&& deliver);

  std::map<FollowId, Follow> follows_;  // live follows, by id (= the order they began)
  FollowId last_id_ = 0;                // the id handed out last
};

}  // namespace zagent
