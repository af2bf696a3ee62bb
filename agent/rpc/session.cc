#include "agent/rpc/session.h"

#include <algorithm>
#include <utility>

#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "agent/logs/file_range.h"
#include "agent/rpc/peer.h"
#include "common/pystr.h"

namespace zagent {

namespace asio = boost::asio;
using asio::local::stream_protocol;

namespace {

/// Stop reading from a client whose replies pile up unread; drop it past the hard limit.
constexpr std::size_t kPauseReadingBytes = 1024 * 1024;
constexpr std::size_t kDropClientBytes = 64 * 1024 * 1024;
/// The end of a log sent when a follow begins goes in notifications of at most this size.
constexpr std::int64_t kInitialTailPiece = 256 * 1024;
/// How much of the log a follow sends first when the client does not say.
constexpr std::int64_t kDefaultInitialTail = 1024;

/// Deepest nesting of arrays and objects a request line may have. nlohmann's parser is
/// iterative, but copying a value (decode_frame, parameter binding) and serialising one recurse
/// once per level: 100000 `[` in one line would overflow the stack and kill the agent.
constexpr std::size_t kMaxJsonDepth = 256;

/// True when the JSON text nests arrays and objects deeper than `limit`; brackets inside
/// strings do not count. Invalid JSON is left to the parser.
bool nested_deeper_than(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) {
        return true;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

/// Positional or named parameters as a list, for the session's own methods.
std::optional<std::vector<Json>> params_list(const Json& params,
                                             const std::vector<std::string>& names) {
  std::vector<Json> out(names.size());
  if (params.is_array()) {
    if (params.size() > names.size()) {
      return std::nullopt;
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      out[i] = params[i];
    }
    return out;
  }
  if (params.is_object()) {
    for (const auto& [key, value] : params.items()) {
      const auto it = std::find(names.begin(), names.end(), key);
      if (it == names.end()) {
        return std::nullopt;
      }
      out[static_cast<std::size_t>(it - names.begin())] = value;
    }
    return out;
  }
  return std::nullopt;
}

}  // namespace

RpcSession::RpcSession(const SessionContext& context, stream_protocol::socket socket,
                       PeerRule rule)
    : context_(context),
      socket_(std::move(socket)),
      decoder_(rpc::kMaxFrameBytes),
      refusal_(rule == PeerRule::LoginOnly
                   ? std::nullopt
                   : peer_refusal(context_.policy, read_peer_credentials(socket_.native_handle()),
                                  in_supplementary_group)),
      logged_in_(!login_required(context_.policy)) {}

RpcSession::~RpcSession() {
  // Only while follows are left may the context be touched: a session outlives the
  // listener (in the io_context's handlers) only after drain() ended them.
  if (!follows_.empty()) {
    drop_follows();
  }
}

void RpcSession::start() { read(); }

void RpcSession::drain() {
  draining_ = true;
  drop_follows();
  if (!writing_) {
    close();
  }
}

void RpcSession::log_appended(FollowId follow, std::string_view data) {
  const auto it = std::find_if(follows_.begin(), follows_.end(),
                               [follow](const Follow& f) { return f.follow == follow; });
  if (it != follows_.end()) {
    // A copy: the send may close the session (a client that stopped reading), which ends
    // its follows.
    const Json id = it->id;
    notify(id, std::string(data), false);
  }
}

void RpcSession::log_truncated(FollowId follow) {
  const auto it = std::find_if(follows_.begin(), follows_.end(),
                               [follow](const Follow& f) { return f.follow == follow; });
  if (it != follows_.end()) {
    const Json id = it->id;
    notify(id, std::string(), true);
  }
}

void RpcSession::drop_follows() {
  for (const Follow& f : follows_) {
    context_.follows.unfollow(f.follow);
  }
  follows_.clear();
}

void RpcSession::read() {
  if (closed_ || draining_) {
    return;
  }
  if (queued_bytes_ > kPauseReadingBytes) {
    read_paused_ = true;  // resumed by on_written()
    return;
  }
  socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](
                                                     const boost::system::error_code& ec,
                                                     std::size_t n) {
    if (ec == asio::error::eof) {
      // The client has sent all it will (it may only have half-closed, as `nc -N` does):
      // answer what it asked, then close. Follows end with its requests.
      self->peer_gone_ = true;
      self->drop_follows();
      self->close_when_answered();
      return;
    }
    if (ec) {
      self->peer_gone_ = true;
      self->close();
      return;
    }
    self->decoder_.feed(std::string_view(self->buffer_.data(), n));
    while (auto frame = self->decoder_.next()) {
      self->handle_frame(*frame);
      if (self->closed_) {
        return;
      }
    }
    self->read();
  });
}

void RpcSession::handle_frame(const rpc::Frame& frame) {
  if (frame.too_large) {
    send(rpc::make_error(nullptr, rpc::standard_error(
                                      rpc::StdError::FrameTooLarge,
                                      fmt::format("a request line may hold at most {} bytes",
                                                  rpc::kMaxFrameBytes))));
    return;
  }
  if (py_strip(frame.text).empty()) {
    return;
  }
  if (refusal_) {
    // A clear refusal, then the connection ends.
    send(rpc::make_error(nullptr, rpc::standard_error(rpc::StdError::Unauthorized, *refusal_)));
    close_after_write_ = true;
    return;
  }
  if (nested_deeper_than(frame.text, kMaxJsonDepth)) {
    send(rpc::make_error(nullptr, rpc::standard_error(rpc::StdError::InvalidRequest,
                                                      fmt::format("nested deeper than {} levels",
                                                                  kMaxJsonDepth))));
    return;
  }
  rpc::DecodedFrame decoded = rpc::decode_frame(frame.text);
  if (decoded.error) {
    send(rpc::make_error(nullptr, *decoded.error));
    return;
  }
  ++unanswered_;
  if (decoded.batch) {
    handle_batch(std::move(decoded.calls));
    return;
  }
  dispatch(decoded.calls.front(), [self = shared_from_this()](std::optional<Json> response) {
    --self->unanswered_;
    if (response) {
      self->send(std::move(*response));
    }
    self->close_when_answered();
  });
}

void RpcSession::handle_batch(std::vector<rpc::DecodedCall> calls) {
  // One array reply once every call has answered (notifications have no entry).
  struct Batch {
    std::vector<std::optional<Json>> slots;
    std::size_t pending = 0;
  };
  auto batch = std::make_shared<Batch>();
  batch->slots.resize(calls.size());
  batch->pending = calls.size() + 1;
  auto finish = [self = shared_from_this(), batch]() {
    if (--batch->pending != 0) {
      return;
    }
    Json out = Json::array();
    for (auto& s : batch->slots) {
      if (s) {
        out.push_back(std::move(*s));
      }
    }
    --self->unanswered_;
    if (!out.empty()) {
      self->send(std::move(out));
    }
    self->close_when_answered();
  };
  for (std::size_t i = 0; i < calls.size(); ++i) {
    dispatch(calls[i], [batch, i, finish](std::optional<Json> response) {
      batch->slots[i] = std::move(response);
      finish();
    });
  }
  finish();
}

void RpcSession::dispatch(const rpc::DecodedCall& call, Done done) {
  if (!call.request) {
    done(rpc::make_error(call.id, *call.error));
    return;
  }
  const rpc::Request& req = *call.request;
  const bool notification = req.notification;
  const Json id = req.id;
  auto answer = [done, notification, id](RpcOutcome outcome) {
    if (notification) {
      done(std::nullopt);
    } else if (outcome) {
      done(rpc::make_response(id, std::move(*outcome)));
    } else {
      done(rpc::make_error(id, outcome.error()));
    }
  };
  if (req.method == "zagent.login") {
    login(req.params, answer);
    return;
  }
  if (!logged_in_) {
    answer(rpc::standard_error(rpc::StdError::Unauthorized,
                               "this agent requires zagent.login first"));
    return;
  }
  if (req.method == "zagent.followProcessLog" || req.method == "zagent.followMainLog") {
    follow(req, answer);
    return;
  }
  std::weak_ptr<RpcSession> weak = weak_from_this();
  context_.methods.call(req.method, req.params,
                        [weak, answer = std::move(answer)](RpcOutcome outcome) {
                          if (!weak.expired()) {
                            answer(std::move(outcome));
                          }
                        });
}

void RpcSession::login(const Json& params, const Answer& answer) {
  auto args = params_list(params, {"username", "password"});
  if (!args || !(*args)[0].is_string() || !(*args)[1].is_string()) {
    answer(rpc::standard_error(rpc::StdError::InvalidParams,
                               "zagent.login takes a username and a password (strings)"));
    return;
  }
  if (login_matches(context_.policy, (*args)[0].get<std::string>(),
                    (*args)[1].get<std::string>())) {
    logged_in_ = true;
    answer(RpcOutcome(boost::system::in_place_value, Json(true)));
    return;
  }
  answer(rpc::standard_error(rpc::StdError::Unauthorized, "wrong username or password"));
}

void RpcSession::follow(const rpc::Request& req, const Answer& answer) {
  const bool main_log = req.method == "zagent.followMainLog";
  auto args = main_log ? params_list(req.params, {"initial"})
                       : params_list(req.params, {"name", "channel", "initial"});
  const auto bad = [&](const std::string& why) {
    answer(rpc::standard_error(rpc::StdError::InvalidParams, req.method + ": " + why));
  };
  if (!args) {
    bad("unexpected parameters");
    return;
  }
  const Json& initial_j = main_log ? (*args)[0] : (*args)[2];
  if (!initial_j.is_null() && !initial_j.is_number_integer()) {
    bad("initial must be an int");
    return;
  }
  const std::int64_t initial = initial_j.is_null()
                                   ? kDefaultInitialTail
                                   : std::max<std::int64_t>(0, initial_j.get<std::int64_t>());
  std::string path;
  Json result = Json::object();
  if (main_log) {
    path = context_.main_log_path();
    if (path.empty() || !stat_file(path).exists) {
      answer(rpc::fault_error(Fault::NoFile, path.empty() ? "None" : path));
      return;
    }
  } else {
    const Json& name = (*args)[0];
    const Json& channel_j = (*args)[1];
    if (!name.is_string() || !(channel_j.is_null() || channel_j.is_string())) {
      bad("name and channel must be strings");
      return;
    }
    const std::string channel =
        channel_j.is_null() ? std::string("stdout") : ascii_lower(channel_j.get<std::string>());
    if (channel != "stdout" && channel != "stderr") {
      bad("channel must be stdout or stderr");
      return;
    }
    auto p = context_.methods.process_log_path(name.get<std::string>(), channel);
    if (!p) {
      answer(p.error());
      return;
    }
    path = *p;
    if (!stat_file(path).exists) {
      answer(rpc::fault_error(Fault::NoFile, path));
      return;
    }
    result["name"] = name;
    result["channel"] = channel;
  }
  answer(RpcOutcome(boost::system::in_place_value, std::move(result)));
  if (!req.notification) {  // for a notification, nobody could tell the stream apart
    begin_follow(req.id, path, initial);
  }
}

void RpcSession::begin_follow(const Json& id, const std::string& path, std::int64_t initial) {
  // The end of the file now, then every chunk as the agent writes it (pushed by the log
  // capture or the main log through the registry, so rotation does not matter).
  // Sent in pieces, so that no single notification is huge; a client that does not read
  // them is dropped like any other (kDropClientBytes).
  const FileState st = stat_file(path);
  for (std::int64_t offset = st.size - std::min(initial, st.size); offset < st.size;) {
    const std::int64_t n = std::min(st.size - offset, kInitialTailPiece);
    std::string data = value_or(read_file_range(path, offset, n), std::string());
    if (data.empty() || closed_) {
      break;
    }
    offset += static_cast<std::int64_t>(data.size());
    notify(id, std::move(data), false);
  }
  if (closed_ || draining_) {
    return;  // its follows have ended already
  }
  follows_.push_back(Follow{context_.follows.follow(path, *this), id});
}

void RpcSession::notify(const Json& id, std::string data, bool truncated) {
  send(rpc::make_notification(
      "zagent.logData", Json{{"id", id}, {"data", std::move(data)}, {"truncated", truncated}}));
}

void RpcSession::send(const Json& message) {
  if (closed_) {
    return;
  }
  std::string line = rpc::encode_line(message);
  if (!queue_.empty() && queued_bytes_ + line.size() > kDropClientBytes) {
    close();  // it stopped reading long ago (one large reply alone is always sent)
    return;
  }
  queued_bytes_ += line.size();
  queue_.push_back(std::move(line));
  if (!writing_) {
    write_next();
  }
}

void RpcSession::write_next() {
  writing_ = true;
  asio::async_write(socket_, asio::buffer(queue_.front()),
                    [self = shared_from_this()](const boost::system::error_code& ec,
                                                std::size_t) { self->on_written(ec); });
}

void RpcSession::on_written(const boost::system::error_code& ec) {
  writing_ = false;
  if (ec || closed_) {
    close();
    return;
  }
  queued_bytes_ -= queue_.front().size();
  queue_.pop_front();
  if (!queue_.empty()) {
    write_next();
    return;
  }
  if (draining_ || close_after_write_) {
    close();
    return;
  }
  if (peer_gone_) {
    close_when_answered();
    return;
  }
  if (read_paused_) {
    read_paused_ = false;
    read();
  }
}

void RpcSession::close_when_answered() {
  // After the client's end of the stream: close once every call it made is answered and
  // written.
  if (peer_gone_ && unanswered_ == 0 && !writing_ && queue_.empty()) {
    close();
  }
}

void RpcSession::close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  drop_follows();
  boost::system::error_code ignored;
  socket_.shutdown(stream_protocol::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace zagent
