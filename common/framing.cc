#include "common/framing.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace zagent::rpc {

namespace {

// An emptied buffer keeps its allocation up to this size; a larger one (left by a big request)
// is released so that an idle connection does not pin a megabyte.
constexpr std::size_t kKeepCapacity = std::size_t{64} * 1024;

}  // namespace

// Invariants: head_ <= scan_from_ <= buffer_.size(); [head_, scan_from_) is zero or more
// complete lines, each with its `\n`; the unfinished line [scan_from_, size) holds no `\n` and
// at most max_ bytes, or exactly max_ + 1 bytes while an over-long line is not yet reported.
// Keeping those max_ + 1 bytes (instead of a separate flag) keeps the report in stream order
// behind complete frames that next() has not returned yet.
void LineDecoder::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    if (discarding_) {
      const std::size_t nl = bytes.find('\n');
      if (nl == std::string_view::npos) {
        return;
      }
      if (buffer_.size() > scan_from_) {
        // The over-long line is still waiting for next(): close it so that the bytes after
        // it start a new line. next() reports it by its length.
        buffer_.push_back('\n');
        scan_from_ = buffer_.size();
      }
      discarding_ = false;
      bytes.remove_prefix(nl + 1);
      continue;
    }
    const std::size_t nl = bytes.find('\n');
    const std::size_t line_bytes = nl == std::string_view::npos ? bytes.size() : nl;
    const std::size_t have = buffer_.size() - scan_from_;
    if (line_bytes > max_ - have) {
      // Keep one byte over the limit so that next() can tell; drop the rest as it arrives.
      const std::size_t keep = max_ + 1 - have;
      buffer_.append(bytes.substr(0, keep));
      bytes.remove_prefix(keep);
      discarding_ = true;
      continue;
    }
    if (nl == std::string_view::npos) {
      buffer_.append(bytes);
      return;
    }
    buffer_.append(bytes.substr(0, nl + 1));
    scan_from_ = buffer_.size();
    bytes.remove_prefix(nl + 1);
  }
}

std::optional<Frame> LineDecoder::next() {
  Frame frame;
  if (head_ < scan_from_) {
    // A complete line is waiting; its `\n` lies before scan_from_, so this search reads each
    // byte once over the decoder's life.
    const std::size_t nl = buffer_.find('\n', head_);
    std::string_view line(buffer_.data() + head_, nl - head_);
    if (line.size() > max_) {
      frame.too_large = true;
    } else {
      if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
      }
      frame.text.assign(line);
    }
    head_ = nl + 1;
  } else if (buffer_.size() - scan_from_ > max_) {
    // The unfinished line passed the limit: report it now, so the server can answer at once.
    // discarding_ stays set and drops the rest of it.
    frame.too_large = true;
    head_ = buffer_.size();
    scan_from_ = head_;
  } else {
    return std::nullopt;
  }

  if (head_ == buffer_.size()) {
    if (buffer_.capacity() > kKeepCapacity) {
      buffer_ = std::string();
    } else {
      buffer_.clear();
    }
    head_ = 0;
    scan_from_ = 0;
  } else if (head_ > buffer_.size() - head_) {
    // Consumed bytes dominate: moving the rest costs less than what was consumed since the
    // last move, so the total stays linear in the bytes fed.
    buffer_.erase(0, head_);
    scan_from_ -= head_;
    head_ = 0;
  }
  return frame;
}

std::size_t LineDecoder::pending_bytes() const { return buffer_.size() - scan_from_; }

}  // namespace zagent::rpc
