// libFuzzer target for what a socket client controls: the bytes of the stream. It runs them
// through the agent's path (LineDecoder -> decode_frame -> replies -> encode_line) and the
// client's (decode_incoming), and checks invariants that must hold for any input.
//
// Input layout: byte 0 and byte 1 pick two split points in the rest (so the stream arrives in
// up to three chunks), byte 2 picks the line limit: even -> kMaxFrameBytes, odd -> byte 2 / 2
// (0..127, so that over-long lines are reached). Build: `make fuzz` (tests/fuzz/CMakeLists.txt).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/framing.h"
#include "common/protocol.h"

namespace zagent::rpc {
namespace {

void check(bool ok, const char* what, std::string_view context = {}) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\ncontext: %.*s\n", what,
                 static_cast<int>(context.size()), context.data());
    std::abort();
  }
}

/// What LineDecoder must produce for `input` whatever the chunking: each complete line
/// (over-long ones as too_large), then one too_large for an unfinished line over the limit.
std::vector<Frame> reference_frames(std::string_view input, std::size_t max) {
  std::vector<Frame> out;
  std::size_t start = 0;
  for (std::size_t nl = input.find('\n'); nl != std::string_view::npos;
       nl = input.find('\n', start)) {
    std::string_view line = input.substr(start, nl - start);
    if (line.size() > max) {
      out.push_back(Frame{"", true});
    } else {
      if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
      }
      out.push_back(Frame{std::string(line), false});
    }
    start = nl + 1;
  }
  if (input.size() - start > max) {
    out.push_back(Frame{"", true});
  }
  return out;
}

/// Every line the agent or a client writes: exactly one `\n`, at the end, and valid JSON.
Json check_line(const std::string& line) {
  check(!line.empty() && line.back() == '\n', "encoded line ends in \\n", line);
  check(line.find('\n') == line.size() - 1, "encoded line has one \\n", line);
  Json back = Json::parse(line, nullptr, false);
  check(!back.is_discarded(), "encoded line parses back", line);
  return back;
}

/// An error reply survives the trip to the client unchanged.
void check_error_reply(const Json& id, const RpcError& error) {
  const std::string line = encode_line(make_error(id, error));
  (void)check_line(line);
  const Result<Incoming> in = decode_incoming(std::string_view(line).substr(0, line.size() - 1));
  check(in.has_value(), "client decodes the error reply", line);
  check(!in->notification && in->error.has_value() && !in->result.has_value(),
        "error reply decodes as an error", line);
  check(*in->error == error, "error reply round-trips", line);
  check(in->id == id, "error reply id round-trips", line);
  // Also reached through system.multicall; must not throw.
  (void)check_line(encode_line(fault_struct(error)));
}

void check_request(const Request& request, const Json& id) {
  check(request.params.is_array() || request.params.is_object(), "params are structured");
  check(request.notification ? id.is_null() : request.id == id, "call id matches request id");
  check(request.id.is_null() || request.id.is_string() || request.id.is_number_integer(),
        "request id kind");
  // Written back out the way zctl writes requests, it decodes to the same call.
  const Json again = request.notification
                         ? make_notification(request.method, request.params)
                         : make_request(request.id, request.method, request.params);
  std::string line = encode_line(again);
  (void)check_line(line);
  line.pop_back();
  const DecodedFrame frame = decode_frame(line);
  check(!frame.error && !frame.batch && frame.calls.size() == 1, "re-encoded request is one call",
        line);
  const DecodedCall& call = frame.calls.front();
  check(call.request.has_value() && !call.error, "re-encoded request is valid", line);
  check(call.request->method == request.method && call.request->params == request.params &&
            call.request->notification == request.notification && call.request->id == request.id,
        "re-encoded request round-trips", line);
  if (!request.notification) {
    // Echo the params as a result: any JSON the agent returns must survive encode/decode.
    const std::string reply = encode_line(make_response(request.id, request.params));
    (void)check_line(reply);
    const Result<Incoming> in =
        decode_incoming(std::string_view(reply).substr(0, reply.size() - 1));
    check(in.has_value() && in->result.has_value() && *in->result == request.params,
          "response round-trips", reply);
  }
}

void check_frame(std::string_view text) {
  const DecodedFrame frame = decode_frame(text);
  if (frame.error) {
    check(frame.calls.empty() && !frame.batch, "whole-frame error has no calls");
    check_error_reply(nullptr, *frame.error);
  } else {
    check(!frame.calls.empty(), "a frame without error has calls");
    check(frame.batch || frame.calls.size() == 1, "a single frame has one call");
  }
  for (const DecodedCall& call : frame.calls) {
    check(call.request.has_value() != call.error.has_value(), "a call is a request or an error");
    if (call.error) {
      check(call.error->code == static_cast<int>(StdError::InvalidRequest),
            "a bad call is an InvalidRequest");
      check_error_reply(call.id, *call.error);
    } else {
      check_request(*call.request, call.id);
    }
  }
  // The client's decoder must survive the same bytes.
  (void)decode_incoming(text);
}

}  // namespace
}  // namespace zagent::rpc

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace zagent::rpc;
  if (size < 3) {
    return 0;
  }
  const std::string_view input(reinterpret_cast<const char*>(data) + 3, size - 3);
  std::size_t cut1 = data[0] % (input.size() + 1);
  std::size_t cut2 = data[1] % (input.size() + 1);
  if (cut1 > cut2) {
    std::swap(cut1, cut2);
  }
  const std::size_t max = data[2] % 2 == 0 ? kMaxFrameBytes : data[2] / 2;

  LineDecoder decoder(max);
  std::vector<Frame> frames;
  for (const std::string_view chunk :
       {input.substr(0, cut1), input.substr(cut1, cut2 - cut1), input.substr(cut2)}) {
    decoder.feed(chunk);
    check(decoder.pending_bytes() <= max + 1, "pending bytes stay within the limit");
    while (std::optional<Frame> frame = decoder.next()) {
      frames.push_back(std::move(*frame));
    }
  }

  const std::vector<Frame> expected = reference_frames(input, max);
  check(frames.size() == expected.size(), "frame count matches the reference");
  for (std::size_t i = 0; i < frames.size(); ++i) {
    check(frames[i].too_large == expected[i].too_large && frames[i].text == expected[i].text,
          "frame matches the reference", frames[i].text);
    if (frames[i].too_large) {
      check_error_reply(nullptr, standard_error(StdError::FrameTooLarge));
    } else {
      check_frame(frames[i].text);
    }
  }
  return 0;
}
