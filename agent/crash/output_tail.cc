#include "agent/crash/output_tail.h"

namespace zagent {

void OutputTail::append(Channel channel, std::string_view data) {
  std::string& buf = buffer(channel);
  if (data.size() >= kCapBytes) {
    buf.assign(data.substr(data.size() - kCapBytes));
    return;
  }
  buf.append(data);
  if (buf.size() > 2 * kCapBytes) {
    buf.erase(0, buf.size() - kCapBytes);
  }
}

std::vector<std::string> OutputTail::last_lines(Channel channel, std::size_t n) const {
  const std::string& buf = buffer(channel);
  // Only the last kCapBytes count, so that what a record shows does not depend on where the
  // buffer was last trimmed.
  std::string_view text(buf);
  if (text.size() > kCapBytes) {
    text.remove_prefix(text.size() - kCapBytes);
  }
  if (!text.empty() && text.back() == '\n') {
    text.remove_suffix(1);
  }
  std::vector<std::string> out;
  if (text.empty() || n == 0) {
    return out;
  }
  std::size_t end = text.size();
  while (out.size() < n) {
    const std::size_t nl = text.rfind('\n', end == 0 ? 0 : end - 1);
    if (nl == std::string_view::npos || end == 0) {
      out.emplace_back(text.substr(0, end));
      break;
    }
    out.emplace_back(text.substr(nl + 1, end - nl - 1));
    end = nl;
  }
  // A line cut by the cap at the front is kept (its end is what matters).
  return {out.rbegin(), out.rend()};
}

void OutputTail::clear() {
  out_.clear();
  err_.clear();
}

}  // namespace zagent
