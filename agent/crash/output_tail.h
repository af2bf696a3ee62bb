// The last output of one process, per channel, kept in memory so that a crash record and a
// snapshot can show the last lines without reading log files back. Pure. Appending is
// amortised O(bytes) and keeps at most 2 * kCapBytes per channel.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace zagent {

class OutputTail {
 public:
  /// Bytes kept per channel (the last lines are cut from these).
  static constexpr std::size_t kCapBytes = 64 * 1024;

  enum class Channel { Stdout, Stderr };

  /// Output as it was read from the child's pipe (any chunking).
  void append(Channel channel, std::string_view data);
  /// The last `n` lines of the channel, oldest first; a final line without its newline is
  /// included. A line longer than kCapBytes shows only its end.
  std::vector<std::string> last_lines(Channel channel, std::size_t n) const;
  /// Forgets everything (not needed between runs: the lines of the last run before a crash
  /// are what a record wants, and older runs scroll out).
  void clear();

 private:
  std::string& buffer(Channel channel) { return channel == Channel::Stdout ? out_ : err_; }
  const std::string& buffer(Channel channel) const {
    return channel == Channel::Stdout ? out_ : err_;
  }
  std::string out_;
  std::string err_;
};

}  // namespace zagent
