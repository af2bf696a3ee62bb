// What the HTTP front's endpoints see of a request and give back (docs/http.md): plain data,
// so that the XML-RPC codec and the pages stay pure and the Beast session (the adapter) owns
// the wire. Pure.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace zagent::http {

/// One request, as the session has read and checked it (size limits, auth).
struct Request {
  std::string method;        ///< "GET", "HEAD", "POST"
  std::string target;        ///< the request target as sent: path and query, "/tail.html?x=1"
  std::string content_type;  ///< the Content-Type header, "" when absent
  std::string body;          ///< the whole body (POST)
};

/// One answer with its body; the session adds Content-Length, Date, Server and Connection.
struct Response {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< more headers (Location, ...)
};

/// Called exactly once per request, on the loop thread, possibly later.
using Respond = std::function<void(Response)>;

}  // namespace zagent::http
