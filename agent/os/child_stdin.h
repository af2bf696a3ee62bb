// The agent's ends of its children's stdin pipes (supervisord's PInputDispatcher): bytes sent
// with sendProcessStdin or `zctl fg` are queued and written as the pipe takes them, on the
// loop, never blocking it. An adapter (Asio, write(2)); used on the loop thread only.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "common/error.h"

namespace zagent {

class ChildStdin {
 public:
  explicit ChildStdin(boost::asio::io_context& io);
  ~ChildStdin();
  ChildStdin(const ChildStdin&) = delete;
  ChildStdin& operator=(const ChildStdin&) = delete;

  /// Takes over the write end of `pid`'s stdin (non-blocking); fd < 0 is ignored.
  void attach(pid_t pid, int fd);

  /// Queues `data` for `pid`'s stdin and writes what the pipe takes now; the rest follows as
  /// the child reads. Error NotFound ("stdin channel is closed") when `pid` has no open stdin:
  /// never attached, closed by the child (EPIPE), or the child is gone.
  Result<void> write(pid_t pid, std::string_view data);

  /// The child was reaped: its stdin is closed and unwritten bytes are dropped.
  void close(pid_t pid);

  /// Stdin pipes held open.
  std::size_t size() const { return pipes_.size(); }

 private:
  struct Pipe;
  void flush(pid_t pid);
  void wait_writable(pid_t pid, Pipe& pipe);

  boost::asio::io_context& io_;
  std::map<pid_t, std::unique_ptr<Pipe>> pipes_;  // open stdin pipes by child pid
  std::shared_ptr<bool> alive_;                   // false once destroyed (pending waits)
};

}  // namespace zagent
