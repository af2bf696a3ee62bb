// JSON-RPC 2.0 as spoken on the control socket (DESIGN.md, docs/rpc.md): request decoding,
// response/notification encoding, and the client-side response decoding. Pure: no I/O.
//
// Faults: a supervisord fault travels as a JSON-RPC error whose `code` is the fault number
// (10 BAD_NAME, 70 NOT_RUNNING, ...) and whose `message` is the faultString
// (`BAD_NAME: nosuch`). Protocol-level problems use the standard codes; where supervisord has a
// fault for the same problem, `data` carries it as {"faultCode": 1, "faultString": "..."}:
//   -32700 parse error        (invalid JSON)
//   -32600 invalid request    (not a request object, bad `jsonrpc`/`method`/`id`/`params`)
//   -32601 method not found   data: UNKNOWN_METHOD (1)
//   -32602 invalid params     data: INCORRECT_PARAMETERS (2)
//   -32603 internal error
//   -32001 unauthorized       (peer uid not allowed, or zagent.login required/failed)
//   -32002 frame too large    (a line longer than the frame limit; the line is discarded)
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/faults.h"

namespace zagent::rpc {

using Json = nlohmann::json;

/// Longest request line the agent accepts, newline excluded (1 MiB).
inline constexpr std::size_t kMaxFrameBytes = std::size_t{1024} * 1024;

/// Standard JSON-RPC 2.0 error codes, and zagent's two server errors.
enum class StdError : int {
  ParseError = -32700,
  InvalidRequest = -32600,
  MethodNotFound = -32601,
  InvalidParams = -32602,
  InternalError = -32603,
  Unauthorized = -32001,
  FrameTooLarge = -32002,
};

/// A JSON-RPC error object.
struct RpcError {
  int code = 0;
  std::string message;
  Json data;  ///< null, or {"faultCode": N, "faultString": "..."}

  /// The supervisord fault this error stands for: the code itself when it is a fault number,
  /// else data.faultCode (UNKNOWN_METHOD for -32601, INCORRECT_PARAMETERS for -32602; those
  /// two codes mean their fault even without `data`); nullopt when there is none.
  std::optional<Fault> fault() const;

  friend bool operator==(const RpcError&, const RpcError&) = default;
};

/// A supervisord fault: code = fault number, message = `NAME` or `NAME: detail`.
RpcError fault_error(Fault fault, std::string_view detail = {});
/// A standard error. MethodNotFound and InvalidParams get their fault in `data`
/// (UNKNOWN_METHOD / INCORRECT_PARAMETERS, with `detail` appended to the faultString when set).
RpcError standard_error(StdError code, std::string_view detail = {});
/// The `{faultCode, faultString}` object of an error (system.multicall entries): faultCode is
/// fault() or else the code; faultString is data.faultString where the code is not a fault
/// number and data has one, else the message.
Json fault_struct(const RpcError& error);

/// One decoded call of a frame.
struct Request {
  Json id;                    ///< number, string or null; null for a notification
  bool notification = false;  ///< no `id` member: never answered
  std::string method;
  Json params = Json::array();  ///< an array (positional) or an object (named); absent -> []
};

/// One element of a decoded frame: a request, or the error to answer for that element.
struct DecodedCall {
  std::optional<Request> request;
  std::optional<RpcError> error;  ///< set when the element is not a valid request
  Json id;                        ///< the element's id where it could be read, else null
};

/// A decoded frame (one line): a single call or a batch.
struct DecodedFrame {
  bool batch = false;  ///< a non-empty array: answer with an array of the non-notification
                       ///< replies, or send nothing when every call is a notification
  std::vector<DecodedCall> calls;  ///< empty only when `error` is set
  std::optional<RpcError> error;   ///< whole-frame error: parse error or empty batch;
                                   ///< answered as one error with id null
};

/// Decodes one line (without its newline). Never throws. Invalid JSON (invalid UTF-8 included)
/// -> ParseError; `[]` -> InvalidRequest; a non-object element -> InvalidRequest for that
/// element. A call is invalid (InvalidRequest) unless `jsonrpc` is exactly "2.0", `method` is a
/// string, `id` (when present) is a string, an integer or null, and `params` (when present) is
/// an array or an object. Unknown members are ignored.
DecodedFrame decode_frame(std::string_view line);

/// Serialises `j` as one line ending in `\n`. Strings that are not valid UTF-8 have the bad
/// bytes replaced by U+FFFD (log data may contain any bytes). Never throws: should encoding
/// fail anyway (no memory, a discarded value), the line is an InternalError reply with id null.
std::string encode_line(const Json& j);

/// {"jsonrpc":"2.0","id":id,"result":result} (not yet a line; see encode_line)
Json make_response(const Json& id, Json result);
/// {"jsonrpc":"2.0","id":id,"error":{code,message[,data]}}
Json make_error(const Json& id, const RpcError& error);
/// {"jsonrpc":"2.0","method":method,"params":params}
Json make_notification(std::string_view method, Json params);
/// {"jsonrpc":"2.0","id":id,"method":method,"params":params}
Json make_request(const Json& id, std::string_view method, Json params);

/// What a client reads from the agent: a response to one of its calls, or a notification.
struct Incoming {
  bool notification = false;
  Json id;                        ///< responses only
  std::string method;             ///< notifications only
  Json params;                    ///< notifications only
  std::optional<Json> result;     ///< responses: set on success
  std::optional<RpcError> error;  ///< responses: set on failure
};

/// Decodes one line received by a client. A batch reply is not supported here (clients that
/// batch decode the array themselves). A response has `jsonrpc` "2.0", an `id` and exactly one
/// of `result` and `error` (an object with an integer `code` and a string `message`); a
/// notification has a string `method`, no `id`, and array/object `params` (absent -> []).
/// Errors: not JSON, not a response or notification.
Result<Incoming> decode_incoming(std::string_view line);

/// decode_incoming(), and a batch reply too: a JSON array of responses decodes to its
/// elements in order (a single message to one element). Errors: as decode_incoming() for
/// the line or any element; an empty array.
Result<std::vector<Incoming>> decode_incoming_all(std::string_view line);

}  // namespace zagent::rpc
