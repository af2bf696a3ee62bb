// Newline-delimited framing for the control socket: an incremental, pure decoder that turns
// a byte stream into lines, with a size limit per line. No I/O.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace zagent::rpc {

/// One frame taken from the stream.
struct Frame {
  std::string text;        ///< the line without its `\n` (and without a trailing `\r`)
  bool too_large = false;  ///< the line exceeded the limit; `text` is empty, the bytes were
                           ///< dropped up to and including the next `\n`
};

/// Feed bytes as they arrive, then take complete frames with next(). Frames come out in stream
/// order. A line is over-long when more than `max_line_bytes` bytes (a `\r` before the `\n`
/// included) arrive before its `\n`; it is reported once, as soon as the limit is passed, and
/// the rest of it is dropped as it streams in. Memory stays bounded by the limit plus the
/// complete frames not yet taken (at most the bytes of one feed() when next() is drained after
/// every feed).
class LineDecoder {
 public:
  explicit LineDecoder(std::size_t max_line_bytes) : max_(max_line_bytes) {}

  /// Appends received bytes (any split, any content).
  void feed(std::string_view bytes);
  /// The next complete frame, or nullopt until more bytes arrive.
  std::optional<Frame> next();
  /// Bytes buffered but not yet part of a complete frame (the unfinished last line); at most
  /// `max_line_bytes + 1`.
  std::size_t pending_bytes() const;

 private:
  std::size_t max_;
  std::string buffer_;         // received bytes; those before head_ are consumed
  std::size_t head_ = 0;       // start of the first frame next() has not returned
  std::size_t scan_from_ = 0;  // start of the unfinished last line: [head_, scan_from_) holds
                               // complete lines, buffer_ from here on holds no `\n`
  bool discarding_ = false;    // inside an over-long line: drop bytes up to the next `\n`
};

}  // namespace zagent::rpc
