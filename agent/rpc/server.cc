#include "agent/rpc/server.h"

#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <deque>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "agent/rpc/peer.h"
#include "common/framing.h"
#include "common/pystr.h"

namespace zagent {

namespace asio = boost::asio;
using asio::local::stream_protocol;

namespace {

/// Stop reading from a client whose replies pile up unread; drop it past the hard limit.
constexpr std::size_t kPauseReadingBytes = 1024 * 1024;
constexpr std::size_t kDropClientBytes = 64 * 1024 * 1024;
/// How long to wait before accepting again when accept() ran out of descriptors.
constexpr std::chrono::milliseconds kAcceptRetry{100};
/// The end of a log sent when a follow begins goes in notifications of at most this size.
constexpr std::int64_t kInitialTailPiece = 256 * 1024;

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


struct FileState {
  bool exists = false;
  std::int64_t size = 0;
};

FileState stat_file(const std::string& path) {
  struct stat st{};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) {
    return {};
  }
  return {true, static_cast<std::int64_t>(st.st_size)};
}


}  // namespace

Result<std::string> read_file_range(const std::string& path, std::int64_t offset,
                                    std::int64_t length) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno_error("open " + path, errno);
  }
  std::string out;
  char buf[65536];
  off_t pos = static_cast<off_t>(offset);
  while (length < 0 || static_cast<std::int64_t>(out.size()) < length) {
    std::size_t want = sizeof buf;
    if (length >= 0) {
      want = std::min<std::size_t>(want, static_cast<std::size_t>(length) - out.size());
    }
    const ssize_t n = ::pread(fd, buf, want, pos);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return errno_error("read " + path, err);
    }
    if (n == 0) {
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
    pos += n;
  }
  ::close(fd);
  return out;
}

// ---- one connection ---------------------------------------------------------------------------

class RpcServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(RpcServer& server, stream_protocol::socket socket)
      : server_(server), socket_(std::move(socket)), decoder_(rpc::kMaxFrameBytes) {}

  void start() {
    identify_peer();
    read();
  }

  /// Stop reading; close once the queue is written.
  void drain() {
    draining_ = true;
    drop_follows();
    if (!writing_) {
      close();
    }
  }

  bool closed() const { return closed_; }

  /// Data was written to the log at `path`: push it to this client's follows of it.
  void publish(const std::string& path, std::string_view data) {
    // By index: a send may close the session (a client that stopped reading), which ends
    // its follows.
    for (std::size_t i = 0; i < follows_.size(); ++i) {
      if (follows_[i].path == path) {
        notify(follows_[i].id, std::string(data), data.empty());
      }
    }
  }

 private:
  struct Follow {
    Json id;
    std::string path;
  };

  /// Ends every follow of this client.
  void drop_follows() {
    server_.follow_count_ -= follows_.size();
    follows_.clear();
  }

  void identify_peer() {
    refusal_ = peer_refusal(server_.policy_, read_peer_credentials(socket_.native_handle()),
                            in_supplementary_group);
    logged_in_ = !login_required(server_.policy_);
  }

  void read() {
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

  void handle_frame(const rpc::Frame& frame) {
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
      send(rpc::make_error(nullptr,
                           rpc::standard_error(rpc::StdError::Unauthorized, *refusal_)));
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
    if (!decoded.batch) {
      dispatch(decoded.calls.front(), [self = shared_from_this()](std::optional<Json> response) {
        --self->unanswered_;
        if (response) {
          self->send(std::move(*response));
        }
        self->close_when_answered();
      });
      return;
    }
    // A batch: one array reply once every call has answered (notifications have no entry).
    struct Batch {
      std::vector<std::optional<Json>> slots;
      std::size_t pending = 0;
    };
    auto batch = std::make_shared<Batch>();
    batch->slots.resize(decoded.calls.size());
    batch->pending = decoded.calls.size() + 1;
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
    for (std::size_t i = 0; i < decoded.calls.size(); ++i) {
      dispatch(decoded.calls[i], [batch, i, finish](std::optional<Json> response) {
        batch->slots[i] = std::move(response);
        finish();
      });
    }
    finish();
  }

  using Done = std::function<void(std::optional<Json>)>;

  /// Runs one call; `done` gets the response object (nullopt for a notification).
  void dispatch(const rpc::DecodedCall& call, Done done) {
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
    std::weak_ptr<Session> weak = weak_from_this();
    server_.methods_.call(req.method, req.params,
                          [weak, answer = std::move(answer)](RpcOutcome outcome) {
                            if (!weak.expired()) {
                              answer(std::move(outcome));
                            }
                          });
  }

  /// Positional or named parameters as a list, for the server's own methods.
  static std::optional<std::vector<Json>> params_list(const Json& params,
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

  void login(const Json& params, const std::function<void(RpcOutcome)>& answer) {
    auto args = params_list(params, {"username", "password"});
    if (!args || !(*args)[0].is_string() || !(*args)[1].is_string()) {
      answer(rpc::standard_error(rpc::StdError::InvalidParams,
                                 "zagent.login takes a username and a password (strings)"));
      return;
    }
    if (login_matches(server_.policy_, (*args)[0].get<std::string>(),
                      (*args)[1].get<std::string>())) {
      logged_in_ = true;
      answer(RpcOutcome(boost::system::in_place_value, Json(true)));
      return;
    }
    answer(rpc::standard_error(rpc::StdError::Unauthorized, "wrong username or password"));
  }

  void follow(const rpc::Request& req, const std::function<void(RpcOutcome)>& answer) {
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
    const std::int64_t initial =
        initial_j.is_null() ? 1024 : std::max<std::int64_t>(0, initial_j.get<std::int64_t>());
    std::string path;
    Json result = Json::object();
    if (main_log) {
      path = server_.main_log_path_();
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
      auto p = server_.methods_.process_log_path(name.get<std::string>(), channel);
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
    const FileState st = stat_file(path);
    answer(RpcOutcome(boost::system::in_place_value, std::move(result)));
    if (req.notification) {
      return;  // nobody could tell the stream apart
    }
    // The end of the file now, then every chunk as the agent writes it (pushed by the log
    // capture or the main log, so rotation does not matter).
    // Sent in pieces, so that no single notification is huge; a client that does not read
    // them is dropped like any other (kDropClientBytes).
    for (std::int64_t offset = st.size - std::min(initial, st.size); offset < st.size;) {
      const std::int64_t n = std::min(st.size - offset, kInitialTailPiece);
      std::string data = value_or(read_file_range(path, offset, n), std::string());
      if (data.empty() || closed_) {
        break;
      }
      offset += static_cast<std::int64_t>(data.size());
      notify(req.id, std::move(data), false);
    }
    follows_.push_back(Follow{req.id, path});
    ++server_.follow_count_;
  }

  void notify(const Json& id, std::string data, bool truncated) {
    send(rpc::make_notification(
        "zagent.logData", Json{{"id", id}, {"data", std::move(data)}, {"truncated", truncated}}));
  }

  void send(const Json& message) {
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

  void write_next() {
    writing_ = true;
    asio::async_write(socket_, asio::buffer(queue_.front()),
                      [self = shared_from_this()](const boost::system::error_code& ec,
                                                  std::size_t) { self->on_written(ec); });
  }

  void on_written(const boost::system::error_code& ec) {
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

  /// After the client's end of the stream: close once every call it made is answered and
  /// written.
  void close_when_answered() {
    if (peer_gone_ && unanswered_ == 0 && !writing_ && queue_.empty()) {
      close();
    }
  }

  void close() {
    if (closed_) {
      return;
    }
    closed_ = true;
    drop_follows();
    boost::system::error_code ignored;
    socket_.shutdown(stream_protocol::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  RpcServer& server_;
  stream_protocol::socket socket_;
  rpc::LineDecoder decoder_;
  std::array<char, 64 * 1024> buffer_{};
  std::deque<std::string> queue_;  // encoded lines waiting to be written
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool read_paused_ = false;
  bool draining_ = false;
  bool close_after_write_ = false;
  bool closed_ = false;
  bool peer_gone_ = false;      // the client's end of the stream was read (EOF)
  std::size_t unanswered_ = 0;  // frames dispatched whose reply has not been queued yet
  std::optional<std::string> refusal_ = std::string();  // set: the peer may not call (why)
  bool logged_in_ = false;
  std::vector<Follow> follows_;
};

// ---- the server -------------------------------------------------------------------------------

RpcServer::RpcServer(asio::io_context& io, int listen_fd, RpcMethods& methods,
                     AccessPolicy policy, std::function<std::string()> main_log_path)
    : io_(io),
      acceptor_(io, stream_protocol(), listen_fd),
      methods_(methods),
      policy_(std::move(policy)),
      main_log_path_(std::move(main_log_path)),
      accept_timer_(io),
      drain_timer_(io),
      alive_(std::make_shared<bool>(true)) {}

RpcServer::~RpcServer() {
  *alive_ = false;
  boost::system::error_code ignored;
  acceptor_.release(ignored);  // the daemon owns and closes the listening fd
  for (auto& w : sessions_) {
    if (auto s = w.lock()) {
      s->drain();
    }
  }
}

void RpcServer::start() { accept(); }

void RpcServer::accept() {
  acceptor_.async_accept([this, alive = alive_](const boost::system::error_code& ec,
                                                stream_protocol::socket socket) {
    if (!*alive || draining_) {
      return;
    }
    if (!ec) {
      auto session = std::make_shared<Session>(*this, std::move(socket));
      std::erase_if(sessions_, [](const std::weak_ptr<Session>& w) {
        auto s = w.lock();
        return !s || s->closed();
      });
      sessions_.push_back(session);
      session->start();
    }
    if (ec == boost::system::errc::too_many_files_open ||
        ec == boost::system::errc::too_many_files_open_in_system ||
        ec == boost::system::errc::no_buffer_space ||
        ec == boost::system::errc::not_enough_memory) {
      // Out of descriptors or memory: the connection stays in the listen backlog, so an
      // accept at once would fail at once, forever (a busy loop). Retry a little later.
      accept_timer_.expires_after(kAcceptRetry);
      accept_timer_.async_wait([this, alive = alive_](const boost::system::error_code& wait_ec) {
        if (*alive && !wait_ec && !draining_) {
          accept();
        }
      });
      return;
    }
    // Other errors (e.g. the client gave up before the accept): keep accepting.
    accept();
  });
}

std::size_t RpcServer::session_count() const {
  std::size_t n = 0;
  for (const auto& w : sessions_) {
    if (auto s = w.lock(); s && !s->closed()) {
      ++n;
    }
  }
  return n;
}

void RpcServer::publish(const std::string& path, std::string_view data) {
  if (follow_count_ == 0) {
    return;  // the common case: nobody follows anything
  }
  for (auto& w : sessions_) {
    if (auto s = w.lock(); s && !s->closed()) {
      s->publish(path, data);
    }
  }
}

void RpcServer::publish_reset(const std::string& path) { publish(path, std::string_view()); }

void RpcServer::drain(std::chrono::milliseconds grace, std::function<void()> done) {
  draining_ = true;
  boost::system::error_code ignored;
  acceptor_.cancel(ignored);
  accept_timer_.cancel();
  for (auto& w : sessions_) {
    if (auto s = w.lock()) {
      s->drain();
    }
  }
  drain_deadline_ = std::chrono::steady_clock::now() + grace;
  drain_done_ = std::move(done);
  check_drained();
}

void RpcServer::check_drained() {
  // Poll the sessions until all are closed or the grace period is over.
  if (session_count() == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
    if (auto done = std::move(drain_done_)) {
      drain_done_ = nullptr;
      done();
    }
    return;
  }
  drain_timer_.expires_after(std::chrono::milliseconds(5));
  drain_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (*alive && !ec) {
      check_drained();
    }
  });
}

}  // namespace zagent
