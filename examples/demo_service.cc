// demo_service: a tiny HTTP service for `make run`. It answers every request on
// 127.0.0.1:PORT with a short text, and crashes on purpose now and then (exit code 1 after a
// random 10-40 s of uptime, or at once when /crash is requested), so a newcomer sees zagent
// notice the crash and bring it back.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

int main(int argc, char** argv) {
  const int port = argc > 1 ? std::atoi(argv[1]) : 8765;
  std::mt19937 rng(std::random_device{}());
  const auto lifetime = std::chrono::seconds(std::uniform_int_distribution<int>(10, 40)(rng));
  const auto started = std::chrono::steady_clock::now();

  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 16) != 0) {
    std::fprintf(stderr, "demo_service: cannot listen on 127.0.0.1:%d: %s\n", port,
                 std::strerror(errno));
    return 2;
  }
  std::printf("demo_service: listening on http://127.0.0.1:%d/ (will crash in about %lld s)\n",
              port, static_cast<long long>(lifetime.count()));
  std::fflush(stdout);

  for (;;) {
    const auto left = lifetime - (std::chrono::steady_clock::now() - started);
    if (left <= std::chrono::seconds(0)) {
      std::fprintf(stderr, "demo_service: simulated crash (out of memory)\n");
      return 1;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(
                        std::chrono::duration_cast<std::chrono::milliseconds>(left).count())) <= 0) {
      continue;
    }
    const int client = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      continue;
    }
    char buf[1024];
    const ssize_t n = read(client, buf, sizeof buf - 1);
    const std::string request(buf, n > 0 ? static_cast<size_t>(n) : 0);
    const bool crash = request.rfind("GET /crash", 0) == 0;
    const std::string body = crash ? "crashing now\n" : "hello from demo_service\n";
    const std::string response = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\n\r\n" + body;
    (void)write(client, response.data(), response.size());
    close(client);
    std::printf("demo_service: served %s\n", crash ? "/crash" : "a request");
    std::fflush(stdout);
    if (crash) {
      std::fprintf(stderr, "demo_service: crash requested\n");
      return 1;
    }
  }
}
