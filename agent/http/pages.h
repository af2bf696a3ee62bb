// The endpoints built from the method table: the web page (`/`, `/index.html`, the tail
// page), `/metrics` in Prometheus text, and `/livez` and `/readyz` (docs/http.md). Each is
// a client of RpcMethods like zctl is of the socket, so the page and the metrics say exactly
// what the RPC says. Pure.
#pragma once

#include <string_view>

#include "agent/http/http_types.h"

namespace zagent {
class RpcMethods;
}

namespace zagent::http {

/// True for a path (the target without its query) that serve_page answers.
bool is_page(std::string_view path);

/// Serves one of them (GET and HEAD; POST for the page's forms) through `respond`, exactly once.
/// A HEAD request gets the response GET would get, body included (so that Content-Length is
/// right), and never acts; the session sends no body for it. Another method is 405 with an
/// Allow header; an unknown page action or one without its processname is 400.
void serve_page(RpcMethods& methods, const Request& request, Respond respond);

}  // namespace zagent::http
