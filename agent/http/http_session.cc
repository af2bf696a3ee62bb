#include "agent/http/http_session.h"

#include <sys/stat.h>

#include <array>
#include <ctime>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fmt/format.h>

#include "agent/daemon/cli.h"
#include "agent/http/http_rules.h"
#include "agent/http/pages.h"
#include "agent/http/xmlrpc.h"
#include "agent/logs/file_range.h"
#include "agent/rpc/peer.h"

namespace zagent::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using asio::local::stream_protocol;
using Headers = std::vector<std::pair<std::string, std::string>>;

/// One read's worth of bytes.
constexpr std::size_t kReadChunk = 16 * 1024;
/// After an answer that ends the connection (an error), how long what the client still sends
/// is read and dropped, so that closing with unread bytes does not reset the connection before
/// the client has read the answer.
constexpr std::chrono::seconds kLingerTimeout{2};
/// supervisord compat: tail_f_producer(request, logfile, 1024): a stream begins with the last
/// 1024 bytes of the file (all of it when shorter).
constexpr std::int64_t kInitialTail = 1024;

/// What comes after a write.
enum class Then {
  NextRequest,  // keep-alive: read the next request (pipelined bytes first)
  Linger,       // an answer that ends the connection: half-close, drop what comes, close
  Stream,       // a log stream: write what has been queued meanwhile
  Close,        // close at once (the last chunk of a stream at drain)
};

/// The status for a request the parser rejected.
unsigned status_for_parse_error(const beast::error_code& ec) {
  if (ec == bhttp::error::header_limit) {
    return 431;
  }
  if (ec == bhttp::error::body_limit) {
    return 413;
  }
  return 400;
}

template <class Socket>
class Session final : public Connection,
                      private LogFollower,
                      public std::enable_shared_from_this<Session<Socket>> {
 public:
  Session(const SessionContext& context, Socket socket)
      : context_(context), socket_(std::move(socket)), timer_(socket_.get_executor()) {
    if constexpr (std::is_same_v<Socket, stream_protocol::socket>) {
      refusal_ = peer_refusal(context_.policy, read_peer_credentials(socket_.native_handle()),
                              in_supplementary_group);
    } else {
      boost::system::error_code ignored;
      socket_.set_option(tcp::no_delay(true), ignored);
    }
  }

  ~Session() override {
    // The context is touched only while a follow is left (drain() and close() end it).
    if (follow_ != 0) {
      context_.follows.unfollow(follow_);
    }
  }

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start() { begin_request(); }

  void drain() override {
    draining_ = true;
    end_follow();
    switch (state_) {
      case State::Writing:
        break;  // closes once written
      case State::Streaming:
        if (!writing_) {
          end_stream();
        }
        break;
      case State::Closed:
        break;
      default:
        close();  // idle, half a request, a call still waiting, lingering
        break;
    }
  }

  bool closed() const override { return state_ == State::Closed; }

 private:
  enum class State { Idle, Reading, Handling, Writing, Streaming, Lingering, Closed };

  // ---- reading a request ----

  void begin_request() {
    if (draining_) {
      close();
      return;
    }
    state_ = State::Idle;
    head_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(kMaxHeaderBytes));
    parser_->body_limit(kMaxBodyBytes);
    parser_->eager(true);
    arm_timer(kIdleTimeout);
    parse();
  }

  void parse() {
    if (state_ == State::Idle) {
      // RFC 9112 §2.2: empty lines before a request line are ignored (supervisorctl's tail -f
      // ends its request with one CRLF too many).
      skip_empty_lines();
      if (buffer_.size() == 0) {
        read_more();
        return;
      }
      state_ = State::Reading;
      arm_timer(kRequestTimeout);
    }
    for (;;) {
      beast::error_code ec;
      const std::size_t n = parser_->put(buffer_.data(), ec);
      buffer_.consume(n);
      if (ec == bhttp::error::need_more) {
        break;
      }
      if (ec) {
        fail(status_for_parse_error(ec));
        return;
      }
      if (parser_->is_done()) {
        handle_request();
        return;
      }
      if (n == 0) {
        break;
      }
    }
    read_more();
  }

  void skip_empty_lines() {
    const auto* data = static_cast<const char*>(buffer_.data().data());
    std::size_t n = 0;
    while (n < buffer_.size() && (data[n] == '\r' || data[n] == '\n')) {
      ++n;
    }
    buffer_.consume(n);
  }

  void read_more() {
    socket_.async_read_some(
        buffer_.prepare(kReadChunk),
        [self = this->shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
          if (self->state_ != State::Idle && self->state_ != State::Reading) {
            return;  // closed meanwhile
          }
          if (ec) {
            self->close();  // gone (at EOF, half a request is dropped)
            return;
          }
          self->buffer_.commit(n);
          self->parse();
        });
  }

  // ---- timers ----

  void arm_timer(std::chrono::steady_clock::duration after) {
    const std::uint64_t generation = ++timer_generation_;
    timer_.expires_after(after);
    timer_.async_wait([self = this->shared_from_this(), generation](
                          const boost::system::error_code& ec) {
      if (!ec && generation == self->timer_generation_) {
        self->on_timeout();
      }
    });
  }

  void disarm_timer() {
    ++timer_generation_;
    timer_.cancel();
  }

  void on_timeout() {
    switch (state_) {
      case State::Idle:
        close();  // a keep-alive connection nobody uses any more
        break;
      case State::Reading:
        fail(408);  // a client that sends its request too slowly
        break;
      case State::Lingering:
        close();
        break;
      default:
        break;
    }
  }

  // ---- handling a request ----

  void handle_request() {
    state_ = State::Handling;
    disarm_timer();
    ++request_id_;
    auto& req = parser_->get();
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    head_ = req.method() == bhttp::verb::head;
    if (refusal_) {
      Response refused;
      refused.status = 403;
      refused.body = *refusal_ + "\n";
      respond_and_close(std::move(refused));
      return;
    }
    if (login_required(context_.policy)) {
      switch (check_basic_auth(context_.policy, req[bhttp::field::authorization])) {
        case AuthCheck::Ok:
          break;
        case AuthCheck::BadRequest:
          fail(400);
          return;
        case AuthCheck::Unauthorized:
          // supervisord compat: medusa's auth_handler.handle_unauthorized.
          fail(401, {{"WWW-Authenticate", R"(Basic realm="default")"}});
          return;
      }
    }
    request_ = Request{std::string(req.method_string()), std::string(req.target()),
                       std::string(req[bhttp::field::content_type]), std::move(req.body())};
    const Routing routing =
        route_request(request_.method, request_.target, is_page(target_path(request_.target)));
    switch (routing.route) {
      case Route::XmlRpc:
        xmlrpc::serve(context_.methods, request_.body, responder());
        return;
      case Route::Page:
        serve_page(context_.methods, request_, responder());
        return;
      case Route::LogTail:
        log_tail();
        return;
      case Route::MainLogTail:
        stream_file(context_.main_log_path(), false);
        return;
      case Route::Error:
        answer(error_response(routing.status));
        return;
    }
  }

  /// The callback an endpoint answers through; ignored once the session has moved on. It
  /// keeps the session alive: while a call waits (a start or stop with wait), nothing else
  /// does, since nothing is read or written meanwhile.
  Respond responder() {
    const std::uint64_t id = request_id_;
    return [self = this->shared_from_this(), id](Response response) {
      if (self->state_ == State::Handling && self->request_id_ == id) {
        self->answer(std::move(response));
      }
    };
  }

  static Response error_response(unsigned status) {
    Response r;
    r.status = status;
    r.content_type = "text/html";
    r.body = error_page(status);
    return r;
  }

  /// The header block of an answer: status line, Server, Date, Content-Type, `extra`, then the
  /// framing.
  std::string header_block(unsigned status, std::string_view content_type, const Headers& extra,
                           std::optional<std::size_t> content_length, bool keep_alive) const {
    std::string out = fmt::format("HTTP/1.{} {} {}\r\nServer: zagent/{}\r\nDate: {}\r\n",
                                  version_ >= 11 ? 1 : 0, status, reason_phrase(status),
                                  agent_version(), http_date(std::time(nullptr)));
    out += fmt::format("Content-Type: {}\r\n", content_type);
    for (const auto& [name, value] : extra) {
      out += fmt::format("{}: {}\r\n", name, value);
    }
    if (content_length) {
      out += fmt::format("Content-Length: {}\r\n", *content_length);
    } else if (version_ >= 11) {
      out += "Transfer-Encoding: chunked\r\n";
    }
    if (!keep_alive && version_ >= 11) {
      out += "Connection: close\r\n";
    } else if (keep_alive && version_ < 11) {
      out += "Connection: Keep-Alive\r\n";
    }
    out += "\r\n";
    return out;
  }

  /// Writes `response`; the connection stays open for the next request if both sides want.
  void answer(Response response) {
    const bool keep = keep_alive_ && !draining_;
    std::string out = header_block(response.status, response.content_type, response.headers,
                                   response.body.size(), keep);
    if (!head_) {
      out += response.body;
    }
    write(std::move(out), keep ? Then::NextRequest : Then::Linger);
  }

  void respond_and_close(Response response) {
    keep_alive_ = false;
    answer(std::move(response));
  }

  /// medusa's error page for `status`, then the connection ends.
  void fail(unsigned status, const Headers& extra = {}) {
    Response r = error_response(status);
    r.headers = extra;
    state_ = State::Handling;
    respond_and_close(std::move(r));
  }

  // ---- log streams ----

  void log_tail() {
    const std::optional<LogTailTarget> target = parse_logtail_target(request_.target);
    if (!target) {
      answer(error_response(500));  // supervisord compat: its unpacking fails there
      return;
    }
    // supervisord compat: a channel other than stdout/stderr has no `<channel>_logfile`.
    if (target->channel != "stdout" && target->channel != "stderr") {
      answer(error_response(404));
      return;
    }
    auto path = context_.methods.process_log_path(target->name, target->channel);
    if (!path) {
      answer(error_response(404));  // unknown process, or no log for that channel
      return;
    }
    stream_file(*path, true);
  }

  /// Answers with the end of the file at `path`, then everything written to it, as one chunked
  /// body that ends only with the connection (supervisord's logtail and mainlogtail handlers).
  void stream_file(const std::string& path, bool process_log) {
    struct stat st {};
    if (path.empty() || ::stat(path.c_str(), &st) != 0) {
      // supervisord compat: "no logfile is a temporary condition": 404.
      answer(error_response(404));
      return;
    }
    chunked_ = version_ >= 11;
    Headers headers = {{"Last-Modified", http_date(st.st_mtime)}};
    if (process_log) {
      headers.emplace_back("X-Accel-Buffering", "no");  // no proxy buffering (nginx)
    }
    std::string out = header_block(200, "text/plain;charset=utf-8", headers, std::nullopt,
                                   chunked_);
    const std::int64_t size = st.st_size;
    const std::int64_t offset = size >= kInitialTail ? size - kInitialTail : 0;
    stream_.append(value_or(read_file_range(path, offset, size - offset), std::string()));
    // Nothing is written between the read and the follow: both run on the loop, as the writers.
    follow_ = context_.follows.follow(path, *this);
    state_ = State::Streaming;
    if (!stream_.empty()) {
      out += frame(stream_.take());
    }
    write(std::move(out), Then::Stream);
    watch_for_close();
  }

  std::string frame(std::string data) const { return chunked_ ? chunk(data) : std::move(data); }

  void log_appended(FollowId, std::string_view data) override {
    stream_.append(data);
    flush_stream();
  }

  void log_truncated(FollowId) override {
    stream_.truncated();
    flush_stream();
  }

  void flush_stream() {
    if (state_ != State::Streaming || writing_) {
      return;  // on_written() comes back here
    }
    if (!stream_.empty()) {
      write(frame(stream_.take()), Then::Stream);
    } else if (draining_) {
      end_stream();
    }
  }

  void end_stream() {
    if (chunked_) {
      write(std::string(kLastChunk), Then::Close);
    } else {
      close();
    }
  }

  void end_follow() {
    if (follow_ != 0) {
      context_.follows.unfollow(follow_);
      follow_ = 0;
    }
  }

  /// While streaming or lingering the client sends nothing that matters; reading tells when
  /// it has gone.
  void watch_for_close() {
    socket_.async_read_some(
        asio::buffer(discard_),
        [self = this->shared_from_this()](const boost::system::error_code& ec, std::size_t) {
          if (self->state_ != State::Streaming && self->state_ != State::Lingering) {
            return;
          }
          if (ec) {
            self->close();
            return;
          }
          self->watch_for_close();
        });
  }

  // ---- writing ----

  void write(std::string bytes, Then then) {
    if (state_ != State::Streaming) {
      state_ = State::Writing;
    }
    out_ = std::move(bytes);
    then_ = then;
    writing_ = true;
    asio::async_write(socket_, asio::buffer(out_),
                      [self = this->shared_from_this()](const boost::system::error_code& ec,
                                                        std::size_t) { self->on_written(ec); });
  }

  void on_written(const boost::system::error_code& ec) {
    writing_ = false;
    if (state_ == State::Closed) {
      return;
    }
    if (ec) {
      close();
      return;
    }
    out_.clear();
    switch (then_) {
      case Then::NextRequest:
        begin_request();
        break;
      case Then::Linger:
        linger();
        break;
      case Then::Stream:
        flush_stream();
        break;
      case Then::Close:
        close();
        break;
    }
  }

  void linger() {
    if (draining_) {
      close();
      return;
    }
    state_ = State::Lingering;
    boost::system::error_code ignored;
    socket_.shutdown(Socket::shutdown_send, ignored);
    arm_timer(kLingerTimeout);
    watch_for_close();
  }

  void close() {
    if (state_ == State::Closed) {
      return;
    }
    state_ = State::Closed;
    end_follow();
    disarm_timer();
    boost::system::error_code ignored;
    socket_.shutdown(Socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  const SessionContext& context_;  // methods, policy, follows, the main log's path
  Socket socket_;                  // the connection
  asio::steady_timer timer_;       // idle, request and linger timeouts
  std::uint64_t timer_generation_ = 0;  // the armed timeout; earlier ones are stale
  beast::flat_buffer buffer_;      // bytes read and not yet parsed (pipelined requests)
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;  // the request being read
  State state_ = State::Idle;
  std::optional<std::string> refusal_;  // set: the peer may not call (the text it gets)
  Request request_;                     // the request being handled
  std::uint64_t request_id_ = 0;        // counts requests; tells stale answers apart
  unsigned version_ = 11;               // the request's HTTP version (10, 11)
  bool keep_alive_ = true;              // the request allows another one after it
  bool head_ = false;                   // HEAD: the answer has no body
  bool draining_ = false;               // drain() ran
  std::string out_;                     // the bytes being written
  bool writing_ = false;                // an async_write is in flight
  Then then_ = Then::NextRequest;       // what follows that write
  StreamQueue stream_{kStreamQueueBytes};  // a log stream's data waiting to be written
  FollowId follow_ = 0;                    // the stream's follow in the registry (0: none)
  bool chunked_ = true;                    // the stream is chunked (HTTP/1.1), else ends at close
  std::array<char, 4096> discard_{};       // what the client sends while streaming/lingering
};

}  // namespace

std::shared_ptr<Connection> start_http_session(const SessionContext& context,
                                               stream_protocol::socket socket) {
  auto session = std::make_shared<Session<stream_protocol::socket>>(context, std::move(socket));
  session->start();
  return session;
}

std::shared_ptr<Connection> start_http_session(const SessionContext& context, tcp::socket socket) {
  auto session = std::make_shared<Session<tcp::socket>>(context, std::move(socket));
  session->start();
  return session;
}

}  // namespace zagent::http
