#include "common/protocol.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace zagent::rpc {

namespace {

constexpr std::string_view kVersion = "2.0";

std::string_view standard_message(StdError code) {
  switch (code) {
    case StdError::ParseError:
      return "Parse error";
    case StdError::InvalidRequest:
      return "Invalid Request";
    case StdError::MethodNotFound:
      return "Method not found";
    case StdError::InvalidParams:
      return "Invalid params";
    case StdError::InternalError:
      return "Internal error";
    case StdError::Unauthorized:
      return "Unauthorized";
    case StdError::FrameTooLarge:
      return "Frame too large";
  }
  return "Server error";
}

/// `head` or `head: detail`.
std::string with_detail(std::string_view head, std::string_view detail) {
  std::string out(head);
  if (!detail.empty()) {
    out += ": ";
    out += detail;
  }
  return out;
}

/// The integer `j` holds when it is a JSON integer that fits in an int.
std::optional<int> as_int(const Json& j) {
  if (j.is_number_unsigned()) {
    const auto value = j.get<std::uint64_t>();
    if (value > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
      return std::nullopt;
    }
    return static_cast<int>(value);
  }
  if (j.is_number_integer()) {
    const auto value = j.get<std::int64_t>();
    if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max()) {
      return std::nullopt;
    }
    return static_cast<int>(value);
  }
  return std::nullopt;
}

/// JSON-RPC 2.0 §4: an id is a string, a number or null; we also refuse fractional numbers,
/// which the spec discourages and which do not survive a round trip unchanged.
bool is_valid_id(const Json& id) {
  return id.is_string() || id.is_number_integer() || id.is_null();
}

bool has_version(const Json& object) {
  const auto it = object.find("jsonrpc");
  return it != object.end() && it->is_string() && it->get_ref<const std::string&>() == kVersion;
}

DecodedCall invalid_call(std::string_view detail, Json id = nullptr) {
  DecodedCall call;
  call.error = standard_error(StdError::InvalidRequest, detail);
  call.id = std::move(id);
  return call;
}

/// One request object (the whole frame, or one element of a batch).
DecodedCall decode_call(const Json& j) {
  if (!j.is_object()) {
    return invalid_call("not an object");
  }
  // Read the id first so that the other errors can be answered with it.
  const auto id_it = j.find("id");
  const bool notification = id_it == j.end();
  if (!notification && !is_valid_id(*id_it)) {
    return invalid_call("id must be a string, an integer or null");
  }
  Json id = notification ? Json(nullptr) : *id_it;
  if (!has_version(j)) {
    return invalid_call(R"(jsonrpc must be "2.0")", std::move(id));
  }
  const auto method_it = j.find("method");
  if (method_it == j.end() || !method_it->is_string()) {
    return invalid_call("method must be a string", std::move(id));
  }
  Request request;
  const auto params_it = j.find("params");
  if (params_it != j.end()) {
    if (!params_it->is_array() && !params_it->is_object()) {
      return invalid_call("params must be an array or an object", std::move(id));
    }
    request.params = *params_it;
  }
  request.method = method_it->get<std::string>();
  request.notification = notification;
  request.id = id;
  DecodedCall call;
  call.request = std::move(request);
  call.id = std::move(id);
  return call;
}

DecodedFrame frame_error(StdError code, std::string_view detail = {}) {
  DecodedFrame frame;
  frame.error = standard_error(code, detail);
  return frame;
}

Result<Incoming> decode_error_object(const Json& error, Json id) {
  if (!error.is_object()) {
    return fail("decode reply: error is not an object");
  }
  const auto code_it = error.find("code");
  const std::optional<int> code = code_it == error.end() ? std::nullopt : as_int(*code_it);
  if (!code) {
    return fail("decode reply: error.code is not an integer");
  }
  const auto message_it = error.find("message");
  if (message_it == error.end() || !message_it->is_string()) {
    return fail("decode reply: error.message is not a string");
  }
  Incoming incoming;
  incoming.id = std::move(id);
  RpcError rpc_error;
  rpc_error.code = *code;
  rpc_error.message = message_it->get<std::string>();
  const auto data_it = error.find("data");
  if (data_it != error.end()) {
    rpc_error.data = *data_it;
  }
  incoming.error = std::move(rpc_error);
  return incoming;
}

Result<Incoming> decode_incoming_json(const Json& j) {
  if (j.is_array()) {
    return fail("decode reply: batch replies are not supported here");
  }
  if (!j.is_object()) {
    return fail("decode reply: not a JSON object");
  }
  if (!has_version(j)) {
    return fail(R"(decode reply: jsonrpc is not "2.0")");
  }
  const auto id_it = j.find("id");
  if (id_it == j.end()) {
    const auto method_it = j.find("method");
    if (method_it == j.end() || !method_it->is_string()) {
      return fail("decode reply: neither a response (no id) nor a notification (no method)");
    }
    Incoming incoming;
    incoming.notification = true;
    incoming.method = method_it->get<std::string>();
    incoming.params = Json::array();
    const auto params_it = j.find("params");
    if (params_it != j.end()) {
      if (!params_it->is_array() && !params_it->is_object()) {
        return fail("decode reply: notification params must be an array or an object");
      }
      incoming.params = *params_it;
    }
    return incoming;
  }
  if (!is_valid_id(*id_it)) {
    return fail("decode reply: id must be a string, an integer or null");
  }
  const auto result_it = j.find("result");
  const auto error_it = j.find("error");
  if ((result_it == j.end()) == (error_it == j.end())) {
    return fail("decode reply: a response needs exactly one of result and error");
  }
  if (error_it != j.end()) {
    return decode_error_object(*error_it, *id_it);
  }
  Incoming incoming;
  incoming.id = *id_it;
  incoming.result = *result_it;
  return incoming;
}

}  // namespace

std::optional<Fault> RpcError::fault() const {
  if (const std::optional<Fault> direct = fault_from_code(code)) {
    return direct;
  }
  if (data.is_object()) {
    const auto it = data.find("faultCode");
    if (it != data.end()) {
      const std::optional<int> number = as_int(*it);
      return number ? fault_from_code(*number) : std::nullopt;
    }
  }
  // A peer that sends the standard codes without `data` still means supervisord's faults.
  switch (code) {
    case static_cast<int>(StdError::MethodNotFound):
      return Fault::UnknownMethod;
    case static_cast<int>(StdError::InvalidParams):
      return Fault::IncorrectParameters;
    default:
      return std::nullopt;
  }
}

RpcError fault_error(Fault fault, std::string_view detail) {
  RpcError error;
  error.code = fault_code(fault);
  error.message = with_detail(fault_name(fault), detail);
  return error;
}

RpcError standard_error(StdError code, std::string_view detail) {
  RpcError error;
  error.code = static_cast<int>(code);
  error.message = with_detail(standard_message(code), detail);
  // supervisord compat: these two problems are faults there (xmlrpc.py), so a client that
  // speaks in faults (system.multicall, zctl) finds the fault in `data`.
  std::optional<Fault> fault;
  if (code == StdError::MethodNotFound) {
    fault = Fault::UnknownMethod;
  } else if (code == StdError::InvalidParams) {
    fault = Fault::IncorrectParameters;
  }
  if (fault) {
    error.data = {{"faultCode", fault_code(*fault)},
                  {"faultString", with_detail(fault_name(*fault), detail)}};
  }
  return error;
}

Json fault_struct(const RpcError& error) {
  const std::optional<Fault> fault = error.fault();
  std::string fault_string = error.message;
  if (!fault_from_code(error.code) && error.data.is_object()) {
    const auto it = error.data.find("faultString");
    if (it != error.data.end() && it->is_string()) {
      fault_string = it->get<std::string>();
    }
  }
  return {{"faultCode", fault ? fault_code(*fault) : error.code},
          {"faultString", std::move(fault_string)}};
}

DecodedFrame decode_frame(std::string_view line) {
  try {
    const Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      return frame_error(StdError::ParseError);
    }
    DecodedFrame frame;
    if (!j.is_array()) {
      frame.calls.push_back(decode_call(j));
      return frame;
    }
    if (j.empty()) {
      return frame_error(StdError::InvalidRequest, "empty batch");
    }
    frame.batch = true;
    frame.calls.reserve(j.size());
    for (const Json& element : j) {
      frame.calls.push_back(decode_call(element));
    }
    return frame;
  } catch (...) {
    // Only allocation failure can get here; the connection is answered, not dropped.
    return frame_error(StdError::InternalError);
  }
}

std::string encode_line(const Json& j) {
  try {
    if (!j.is_discarded()) {
      std::string line = j.dump(-1, ' ', false, Json::error_handler_t::replace);
      line.push_back('\n');
      return line;
    }
  } catch (...) {
    // Falls through: with error_handler_t::replace only allocation failure throws.
  }
  return R"({"error":{"code":-32603,"message":"Internal error: reply not encodable"},)"
         R"("id":null,"jsonrpc":"2.0"})"
         "\n";
}

Json make_response(const Json& id, Json result) {
  return {{"jsonrpc", kVersion}, {"id", id}, {"result", std::move(result)}};
}

Json make_error(const Json& id, const RpcError& error) {
  Json body = {{"code", error.code}, {"message", error.message}};
  if (!error.data.is_null()) {
    body["data"] = error.data;
  }
  return {{"jsonrpc", kVersion}, {"id", id}, {"error", std::move(body)}};
}

Json make_notification(std::string_view method, Json params) {
  return {{"jsonrpc", kVersion}, {"method", method}, {"params", std::move(params)}};
}

Json make_request(const Json& id, std::string_view method, Json params) {
  return {{"jsonrpc", kVersion}, {"id", id}, {"method", method}, {"params", std::move(params)}};
}

Result<Incoming> decode_incoming(std::string_view line) {
  try {
    const Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      return fail("decode reply: not valid JSON");
    }
    return decode_incoming_json(j);
  } catch (...) {
    return fail("decode reply: out of memory", ErrorCode::Internal);
  }
}

Result<std::vector<Incoming>> decode_incoming_all(std::string_view line) {
  try {
    const Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      return fail("decode reply: not valid JSON");
    }
    std::vector<Incoming> out;
    if (!j.is_array()) {
      auto one = decode_incoming_json(j);
      if (!one) {
        return one.error();
      }
      out.push_back(std::move(*one));
      return out;
    }
    if (j.empty()) {
      return fail("decode reply: empty batch reply");
    }
    out.reserve(j.size());
    for (const Json& element : j) {
      auto one = decode_incoming_json(element);  // a nested array is refused there
      if (!one) {
        return one.error();
      }
      out.push_back(std::move(*one));
    }
    return out;
  } catch (...) {
    return fail("decode reply: out of memory", ErrorCode::Internal);
  }
}

}  // namespace zagent::rpc
