#include "common/protocol.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/faults.h"

namespace zagent::rpc {
namespace {

/// The only call of a single (non-batch) frame; fails the test when the frame is not one.
DecodedCall single(std::string_view line) {
  DecodedFrame frame = decode_frame(line);
  EXPECT_FALSE(frame.batch) << line;
  EXPECT_FALSE(frame.error.has_value()) << line;
  EXPECT_EQ(frame.calls.size(), 1U) << line;
  if (frame.calls.size() != 1) {
    return {};
  }
  return frame.calls.front();
}

/// The error message a single-call frame is answered with, or a marker when it is valid.
std::string call_error(std::string_view line) {
  const DecodedCall call = single(line);
  if (!call.error) {
    return "<valid>";
  }
  EXPECT_FALSE(call.request.has_value()) << line;
  return std::to_string(call.error->code) + " " + call.error->message;
}

// ---------------------------------------------------------------------------------------------
// decode_frame: valid requests

TEST(DecodeFrame, PositionalParams) {
  const DecodedCall call = single(
      R"({"jsonrpc":"2.0","id":7,"method":"supervisor.startProcess","params":["web",true]})");
  ASSERT_TRUE(call.request.has_value());
  EXPECT_FALSE(call.error.has_value());
  EXPECT_EQ(call.request->method, "supervisor.startProcess");
  EXPECT_EQ(call.request->id, Json(7));
  EXPECT_FALSE(call.request->notification);
  EXPECT_EQ(call.request->params, Json::parse(R"(["web",true])"));
  EXPECT_EQ(call.id, Json(7));
}

TEST(DecodeFrame, NamedParams) {
  const DecodedCall call =
      single(R"({"jsonrpc":"2.0","id":"a","method":"m","params":{"name":"web","wait":false}})");
  ASSERT_TRUE(call.request.has_value());
  EXPECT_EQ(call.request->params, Json::parse(R"({"name":"web","wait":false})"));
  EXPECT_EQ(call.request->id, Json("a"));
}

TEST(DecodeFrame, AbsentParamsAreAnEmptyArray) {
  const DecodedCall call = single(R"({"jsonrpc":"2.0","id":1,"method":"supervisor.getState"})");
  ASSERT_TRUE(call.request.has_value());
  EXPECT_EQ(call.request->params, Json::array());
  EXPECT_TRUE(call.request->params.is_array());
}

TEST(DecodeFrame, IdKinds) {
  for (const std::string_view id : {R"("x")", "0", "-5", "18446744073709551615", "null"}) {
    const std::string line =
        std::string(R"({"jsonrpc":"2.0","method":"m","id":)") + std::string(id) + "}";
    const DecodedCall call = single(line);
    ASSERT_TRUE(call.request.has_value()) << line;
    EXPECT_FALSE(call.request->notification) << line;
    EXPECT_EQ(call.request->id, Json::parse(id)) << line;
    EXPECT_EQ(call.id, Json::parse(id)) << line;
  }
}

TEST(DecodeFrame, NullIdIsNotANotification) {
  const DecodedCall call = single(R"({"jsonrpc":"2.0","method":"m","id":null})");
  ASSERT_TRUE(call.request.has_value());
  EXPECT_FALSE(call.request->notification);
  EXPECT_TRUE(call.request->id.is_null());
}

TEST(DecodeFrame, Notification) {
  const DecodedCall call = single(R"({"jsonrpc":"2.0","method":"zagent.ping","params":[1]})");
  ASSERT_TRUE(call.request.has_value());
  EXPECT_TRUE(call.request->notification);
  EXPECT_EQ(call.request->method, "zagent.ping");
  EXPECT_TRUE(call.id.is_null());
}

TEST(DecodeFrame, ExtraMembersAreIgnored) {
  EXPECT_EQ(call_error(R"({"jsonrpc":"2.0","method":"m","id":1,"extra":{"x":1}})"), "<valid>");
}

TEST(DecodeFrame, SurroundingWhitespaceIsAllowed) {
  EXPECT_EQ(call_error(" \t{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"id\":1} \r"), "<valid>");
}

// ---------------------------------------------------------------------------------------------
// decode_frame: invalid frames and requests

TEST(DecodeFrame, InvalidJsonIsAParseError) {
  for (const std::string_view line :
       {"", "   ", "{", R"({"jsonrpc":"2.0","method":"m",})", "{'a':1}", "nul", "[1,]",
        R"({"a":1} {"b":2})", "\"unterminated", "{\"a\":\"\xff\"}"}) {
    const DecodedFrame frame = decode_frame(line);
    ASSERT_TRUE(frame.error.has_value()) << line;
    EXPECT_EQ(frame.error->code, -32700) << line;
    EXPECT_EQ(frame.error->message, "Parse error") << line;
    EXPECT_TRUE(frame.error->data.is_null()) << line;
    EXPECT_TRUE(frame.calls.empty()) << line;
    EXPECT_FALSE(frame.batch) << line;
  }
}

TEST(DecodeFrame, NotAnObject) {
  EXPECT_EQ(call_error("42"), "-32600 Invalid Request: not an object");
  EXPECT_EQ(call_error(R"("supervisor.getState")"), "-32600 Invalid Request: not an object");
  EXPECT_EQ(call_error("null"), "-32600 Invalid Request: not an object");
  EXPECT_EQ(call_error("true"), "-32600 Invalid Request: not an object");
}

TEST(DecodeFrame, WrongJsonrpc) {
  const std::string expected = R"(-32600 Invalid Request: jsonrpc must be "2.0")";
  EXPECT_EQ(call_error(R"({"method":"m","id":1})"), expected);
  EXPECT_EQ(call_error(R"({"jsonrpc":"1.0","method":"m","id":1})"), expected);
  EXPECT_EQ(call_error(R"({"jsonrpc":2.0,"method":"m","id":1})"), expected);
  EXPECT_EQ(call_error(R"({"jsonrpc":"2.0 ","method":"m","id":1})"), expected);
  EXPECT_EQ(call_error(R"({"jsonrpc":null,"method":"m","id":1})"), expected);
}

TEST(DecodeFrame, ErrorKeepsAReadableId) {
  const DecodedCall call = single(R"({"jsonrpc":"1.0","method":"m","id":"abc"})");
  ASSERT_TRUE(call.error.has_value());
  EXPECT_EQ(call.id, Json("abc"));
}

TEST(DecodeFrame, MissingOrNonStringMethod) {
  const std::string expected = "-32600 Invalid Request: method must be a string";
  EXPECT_EQ(call_error(R"({"jsonrpc":"2.0","id":1})"), expected);
  EXPECT_EQ(call_error(R"({"jsonrpc":"2.0","id":1,"method":1})"), expected);
  EXPECT_EQ(call_error(R"({"jsonrpc":"2.0","id":1,"method":null})"), expected);
  EXPECT_EQ(call_error(R"({"jsonrpc":"2.0","id":1,"method":["m"]})"), expected);
  // JSON-RPC 2.0 §4.1 example: an invalid call without an id is still answered (id null).
  const DecodedCall call = single(R"({"jsonrpc":"2.0","method":1,"params":"bar"})");
  ASSERT_TRUE(call.error.has_value());
  EXPECT_TRUE(call.id.is_null());
}

TEST(DecodeFrame, BadIdTypes) {
  const std::string expected = "-32600 Invalid Request: id must be a string, an integer or null";
  for (const std::string_view id :
       {"{}", R"({"a":1})", "[]", "[1]", "true", "false", "1.5", "1.0", "1e3"}) {
    const std::string line =
        std::string(R"({"jsonrpc":"2.0","method":"m","id":)") + std::string(id) + "}";
    EXPECT_EQ(call_error(line), expected) << line;
    EXPECT_TRUE(single(line).id.is_null()) << line;
  }
}

TEST(DecodeFrame, ParamsMustBeStructured) {
  const std::string expected = "-32600 Invalid Request: params must be an array or an object";
  for (const std::string_view params : {"1", R"("web")", "null", "true"}) {
    const std::string line = std::string(R"({"jsonrpc":"2.0","method":"m","id":3,"params":)") +
                             std::string(params) + "}";
    EXPECT_EQ(call_error(line), expected) << line;
    EXPECT_EQ(single(line).id, Json(3)) << line;
  }
}

TEST(DecodeFrame, EmptyBatchIsOneInvalidRequest) {
  for (const std::string_view line : {"[]", " [ ] "}) {
    const DecodedFrame frame = decode_frame(line);
    ASSERT_TRUE(frame.error.has_value());
    EXPECT_EQ(frame.error->code, -32600);
    EXPECT_EQ(frame.error->message, "Invalid Request: empty batch");
    EXPECT_TRUE(frame.calls.empty());
    EXPECT_FALSE(frame.batch);
  }
}

TEST(DecodeFrame, BatchMixesValidAndInvalidCalls) {
  const DecodedFrame frame =
      decode_frame(R"([{"jsonrpc":"2.0","method":"a","params":[1],"id":"1"},)"
                   R"({"jsonrpc":"2.0","method":"notify"},)"
                   R"({"jsonrpc":"2.0","method":"b","id":{}},)"
                   R"(1,)"
                   R"({"foo":"boo"},)"
                   R"([{"jsonrpc":"2.0","method":"nested","id":9}],)"
                   R"({"jsonrpc":"2.0","method":"c","id":5,"params":7}])");
  EXPECT_TRUE(frame.batch);
  EXPECT_FALSE(frame.error.has_value());
  ASSERT_EQ(frame.calls.size(), 7U);

  ASSERT_TRUE(frame.calls[0].request.has_value());
  EXPECT_EQ(frame.calls[0].request->method, "a");
  EXPECT_EQ(frame.calls[0].id, Json("1"));

  ASSERT_TRUE(frame.calls[1].request.has_value());
  EXPECT_TRUE(frame.calls[1].request->notification);

  for (std::size_t i = 2; i < frame.calls.size(); ++i) {
    ASSERT_TRUE(frame.calls[i].error.has_value()) << i;
    EXPECT_EQ(frame.calls[i].error->code, -32600) << i;
    EXPECT_FALSE(frame.calls[i].request.has_value()) << i;
  }
  EXPECT_EQ(frame.calls[3].error->message, "Invalid Request: not an object");
  EXPECT_EQ(frame.calls[5].error->message, "Invalid Request: not an object");
  EXPECT_TRUE(frame.calls[2].id.is_null());
  EXPECT_EQ(frame.calls[6].id, Json(5));
}

TEST(DecodeFrame, BatchOfOneIsStillABatch) {
  const DecodedFrame frame = decode_frame(R"([{"jsonrpc":"2.0","method":"m","id":1}])");
  EXPECT_TRUE(frame.batch);
  ASSERT_EQ(frame.calls.size(), 1U);
  EXPECT_TRUE(frame.calls[0].request.has_value());
}

TEST(DecodeFrame, DeepNestingDoesNotCrash) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const DecodedFrame frame = decode_frame(deep);
  EXPECT_TRUE(frame.batch);
  ASSERT_EQ(frame.calls.size(), 1U);
  EXPECT_TRUE(frame.calls[0].error.has_value());
}

TEST(DecodeFrame, RequestRoundTrip) {
  const Json request = make_request(12, "supervisor.stopProcess", Json::array({"web", true}));
  std::string line = encode_line(request);
  line.pop_back();
  const DecodedCall call = single(line);
  ASSERT_TRUE(call.request.has_value());
  EXPECT_EQ(call.request->id, Json(12));
  EXPECT_EQ(call.request->method, "supervisor.stopProcess");
  EXPECT_EQ(call.request->params, Json::array({"web", true}));
}

// ---------------------------------------------------------------------------------------------
// encode_line and the builders

TEST(EncodeLine, OneLineEndingInNewline) {
  const std::string line = encode_line(Json{{"text", "a\nb\r\n"}, {"n", 1}});
  EXPECT_EQ(line, "{\"n\":1,\"text\":\"a\\nb\\r\\n\"}\n");
}

TEST(EncodeLine, InvalidUtf8IsReplaced) {
  const std::string line = encode_line(make_response(1, std::string("ok \xff\xfe end\xc3")));
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  const Json back = Json::parse(line, nullptr, false);
  ASSERT_FALSE(back.is_discarded()) << line;
  EXPECT_EQ(back["result"], Json("ok \xEF\xBF\xBD\xEF\xBF\xBD end\xEF\xBF\xBD"));
}

TEST(EncodeLine, ValidUtf8IsKept) {
  EXPECT_EQ(encode_line(Json("h\xC3\xA9llo \xE2\x82\xAC")), "\"h\xC3\xA9llo \xE2\x82\xAC\"\n");
}

TEST(EncodeLine, DiscardedValueStillGivesAJsonLine) {
  const std::string line = encode_line(Json(Json::value_t::discarded));
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  const Json back = Json::parse(line, nullptr, false);
  ASSERT_FALSE(back.is_discarded()) << line;
  EXPECT_EQ(back["error"]["code"], Json(-32603));
}

TEST(Builders, Shapes) {
  EXPECT_EQ(make_response(1, Json::array({1, 2})),
            Json::parse(R"({"jsonrpc":"2.0","id":1,"result":[1,2]})"));
  EXPECT_EQ(make_response(nullptr, true),
            Json::parse(R"({"jsonrpc":"2.0","id":null,"result":true})"));
  EXPECT_EQ(make_error("x", fault_error(Fault::NotRunning, "web")),
            Json::parse(R"({"jsonrpc":"2.0","id":"x",
                            "error":{"code":70,"message":"NOT_RUNNING: web"}})"));
  EXPECT_EQ(make_error(nullptr, standard_error(StdError::MethodNotFound, "foo.bar")),
            Json::parse(R"({"jsonrpc":"2.0","id":null,
                            "error":{"code":-32601,"message":"Method not found: foo.bar",
                                     "data":{"faultCode":1,
                                             "faultString":"UNKNOWN_METHOD: foo.bar"}}})"));
  EXPECT_EQ(make_notification("zagent.logData", Json{{"name", "web"}}),
            Json::parse(R"({"jsonrpc":"2.0","method":"zagent.logData","params":{"name":"web"}})"));
  EXPECT_EQ(make_request(3, "supervisor.getState", Json::array()),
            Json::parse(R"({"jsonrpc":"2.0","id":3,"method":"supervisor.getState","params":[]})"));
}

// ---------------------------------------------------------------------------------------------
// Errors and faults

TEST(StandardError, Messages) {
  const std::vector<std::pair<StdError, std::string>> cases = {
      {StdError::ParseError, "-32700 Parse error"},
      {StdError::InvalidRequest, "-32600 Invalid Request"},
      {StdError::MethodNotFound, "-32601 Method not found"},
      {StdError::InvalidParams, "-32602 Invalid params"},
      {StdError::InternalError, "-32603 Internal error"},
      {StdError::Unauthorized, "-32001 Unauthorized"},
      {StdError::FrameTooLarge, "-32002 Frame too large"},
  };
  for (const auto& [code, expected] : cases) {
    const RpcError error = standard_error(code);
    EXPECT_EQ(std::to_string(error.code) + " " + error.message, expected);
    const RpcError detailed = standard_error(code, "why");
    EXPECT_EQ(std::to_string(detailed.code) + " " + detailed.message, expected + ": why");
  }
}

TEST(StandardError, DataOnlyForFaultLikeErrors) {
  EXPECT_EQ(standard_error(StdError::MethodNotFound).data,
            Json::parse(R"({"faultCode":1,"faultString":"UNKNOWN_METHOD"})"));
  EXPECT_EQ(standard_error(StdError::InvalidParams).data,
            Json::parse(R"({"faultCode":2,"faultString":"INCORRECT_PARAMETERS"})"));
  EXPECT_EQ(standard_error(StdError::InvalidParams, "name: expected a string").data,
            Json::parse(R"({"faultCode":2,
                            "faultString":"INCORRECT_PARAMETERS: name: expected a string"})"));
  for (const StdError code :
       {StdError::ParseError, StdError::InvalidRequest, StdError::InternalError,
        StdError::Unauthorized, StdError::FrameTooLarge}) {
    EXPECT_TRUE(standard_error(code, "x").data.is_null()) << static_cast<int>(code);
  }
}

TEST(FaultError, CodeAndMessage) {
  EXPECT_EQ(fault_error(Fault::BadName, "nosuch"), (RpcError{10, "BAD_NAME: nosuch", nullptr}));
  EXPECT_EQ(fault_error(Fault::BadName), (RpcError{10, "BAD_NAME", nullptr}));
  EXPECT_EQ(fault_error(Fault::CantReread, "x: y"), (RpcError{92, "CANT_REREAD: x: y", nullptr}));
}

TEST(RpcErrorFault, Mapping) {
  EXPECT_EQ(fault_error(Fault::NotRunning, "web").fault(), Fault::NotRunning);
  EXPECT_EQ(fault_error(Fault::UnknownMethod).fault(), Fault::UnknownMethod);
  EXPECT_EQ(standard_error(StdError::MethodNotFound, "x").fault(), Fault::UnknownMethod);
  EXPECT_EQ(standard_error(StdError::InvalidParams).fault(), Fault::IncorrectParameters);
  // Without `data` (another server), the two standard codes still mean the same faults.
  EXPECT_EQ((RpcError{-32601, "Method not found", nullptr}.fault()), Fault::UnknownMethod);
  EXPECT_EQ((RpcError{-32602, "Invalid params", nullptr}.fault()), Fault::IncorrectParameters);
  // data.faultCode wins for other codes.
  EXPECT_EQ((RpcError{-32000, "x", Json{{"faultCode", 50}}}.fault()), Fault::SpawnError);
  EXPECT_EQ(standard_error(StdError::ParseError).fault(), std::nullopt);
  EXPECT_EQ(standard_error(StdError::InvalidRequest).fault(), std::nullopt);
  EXPECT_EQ(standard_error(StdError::InternalError).fault(), std::nullopt);
  EXPECT_EQ(standard_error(StdError::FrameTooLarge).fault(), std::nullopt);
  EXPECT_EQ((RpcError{5, "five", nullptr}.fault()), std::nullopt);
  EXPECT_EQ((RpcError{-32000, "x", Json{{"faultCode", 5}}}.fault()), std::nullopt);
  EXPECT_EQ((RpcError{-32000, "x", Json{{"faultCode", "10"}}}.fault()), std::nullopt);
  EXPECT_EQ((RpcError{-32000, "x", Json{{"faultCode", 10.0}}}.fault()), std::nullopt);
}

TEST(FaultStruct, Mapping) {
  EXPECT_EQ(fault_struct(fault_error(Fault::BadName, "nosuch")),
            Json::parse(R"({"faultCode":10,"faultString":"BAD_NAME: nosuch"})"));
  EXPECT_EQ(fault_struct(fault_error(Fault::AlreadyStarted)),
            Json::parse(R"({"faultCode":60,"faultString":"ALREADY_STARTED"})"));
  EXPECT_EQ(fault_struct(standard_error(StdError::MethodNotFound, "x.y")),
            Json::parse(R"({"faultCode":1,"faultString":"UNKNOWN_METHOD: x.y"})"));
  EXPECT_EQ(fault_struct(standard_error(StdError::InvalidParams)),
            Json::parse(R"({"faultCode":2,"faultString":"INCORRECT_PARAMETERS"})"));
  EXPECT_EQ(fault_struct(standard_error(StdError::InternalError, "boom")),
            Json::parse(R"({"faultCode":-32603,"faultString":"Internal error: boom"})"));
  EXPECT_EQ(fault_struct(RpcError{-32601, "Method not found", nullptr}),
            Json::parse(R"({"faultCode":1,"faultString":"Method not found"})"));
}

// ---------------------------------------------------------------------------------------------
// decode_incoming

TEST(DecodeIncoming, Result) {
  const Result<Incoming> in = decode_incoming(R"({"jsonrpc":"2.0","id":4,"result":{"a":[1]}})");
  ASSERT_TRUE(in.has_value()) << in.error().message;
  EXPECT_FALSE(in->notification);
  EXPECT_EQ(in->id, Json(4));
  ASSERT_TRUE(in->result.has_value());
  EXPECT_EQ(*in->result, Json::parse(R"({"a":[1]})"));
  EXPECT_FALSE(in->error.has_value());
}

TEST(DecodeIncomingAll, ABatchReplyIsItsResponsesInOrder) {
  const auto all = decode_incoming_all(
      R"([{"jsonrpc":"2.0","id":2,"result":"b"},)"
      R"({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}])");
  ASSERT_TRUE(all.has_value()) << all.error().message;
  ASSERT_EQ(all->size(), 2U);
  EXPECT_EQ((*all)[0].id, Json(2));
  EXPECT_EQ(*(*all)[0].result, Json("b"));
  EXPECT_EQ((*all)[1].id, Json(1));
  ASSERT_TRUE((*all)[1].error.has_value());
  const auto one = decode_incoming_all(R"({"jsonrpc":"2.0","id":4,"result":1})");
  ASSERT_TRUE(one.has_value());
  ASSERT_EQ(one->size(), 1U);
  EXPECT_EQ(*(*one)[0].result, Json(1));
}

TEST(DecodeIncomingAll, BadBatchesAreErrors) {
  EXPECT_FALSE(decode_incoming_all("[]").has_value());
  EXPECT_FALSE(decode_incoming_all(R"([{"jsonrpc":"2.0","id":1,"result":1},[]])").has_value());
  EXPECT_FALSE(decode_incoming_all(R"([{"jsonrpc":"1.0","id":1,"result":1}])").has_value());
  EXPECT_FALSE(decode_incoming_all("[").has_value());
}

TEST(DecodeIncoming, NullResultIsAResult) {
  const Result<Incoming> in = decode_incoming(R"({"jsonrpc":"2.0","id":"q","result":null})");
  ASSERT_TRUE(in.has_value()) << in.error().message;
  ASSERT_TRUE(in->result.has_value());
  EXPECT_TRUE(in->result->is_null());
}

TEST(DecodeIncoming, Error) {
  const Result<Incoming> in = decode_incoming(
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32601,"message":"Method not found",)"
      R"("data":{"faultCode":1,"faultString":"UNKNOWN_METHOD"}}})");
  ASSERT_TRUE(in.has_value()) << in.error().message;
  EXPECT_FALSE(in->notification);
  EXPECT_TRUE(in->id.is_null());
  EXPECT_FALSE(in->result.has_value());
  ASSERT_TRUE(in->error.has_value());
  EXPECT_EQ(*in->error, standard_error(StdError::MethodNotFound));
  EXPECT_EQ(in->error->fault(), Fault::UnknownMethod);
}

TEST(DecodeIncoming, ErrorRoundTrip) {
  const RpcError sent = fault_error(Fault::SpawnError, "web");
  std::string line = encode_line(make_error(17, sent));
  line.pop_back();
  const Result<Incoming> in = decode_incoming(line);
  ASSERT_TRUE(in.has_value()) << in.error().message;
  ASSERT_TRUE(in->error.has_value());
  EXPECT_EQ(*in->error, sent);
  EXPECT_EQ(in->id, Json(17));
}

TEST(DecodeIncoming, Notification) {
  const Result<Incoming> in =
      decode_incoming(R"({"jsonrpc":"2.0","method":"zagent.logData","params":{"data":"x"}})");
  ASSERT_TRUE(in.has_value()) << in.error().message;
  EXPECT_TRUE(in->notification);
  EXPECT_EQ(in->method, "zagent.logData");
  EXPECT_EQ(in->params, Json::parse(R"({"data":"x"})"));
  EXPECT_FALSE(in->result.has_value());
  EXPECT_FALSE(in->error.has_value());

  const Result<Incoming> bare = decode_incoming(R"({"jsonrpc":"2.0","method":"tick"})");
  ASSERT_TRUE(bare.has_value()) << bare.error().message;
  EXPECT_EQ(bare->params, Json::array());
}

TEST(DecodeIncoming, Garbage) {
  for (const std::string_view line : {
           "",
           "not json",
           "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"\xff\"}",
           "[]",
           R"([{"jsonrpc":"2.0","id":1,"result":1}])",
           "42",
           R"({})",
           R"({"id":1,"result":1})",
           R"({"jsonrpc":"1.0","id":1,"result":1})",
           R"({"jsonrpc":"2.0","id":1})",
           R"({"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1,"message":"x"}})",
           R"({"jsonrpc":"2.0","id":{},"result":1})",
           R"({"jsonrpc":"2.0","id":1.5,"result":1})",
           R"({"jsonrpc":"2.0","id":1,"error":"boom"})",
           R"({"jsonrpc":"2.0","id":1,"error":{"message":"x"}})",
           R"({"jsonrpc":"2.0","id":1,"error":{"code":"10","message":"x"}})",
           R"({"jsonrpc":"2.0","id":1,"error":{"code":1.5,"message":"x"}})",
           R"({"jsonrpc":"2.0","id":1,"error":{"code":4294967296,"message":"x"}})",
           R"({"jsonrpc":"2.0","id":1,"error":{"code":10}})",
           R"({"jsonrpc":"2.0","id":1,"error":{"code":10,"message":7}})",
           R"({"jsonrpc":"2.0","params":[]})",
           R"({"jsonrpc":"2.0","method":5})",
           R"({"jsonrpc":"2.0","method":"m","params":3})",
       }) {
    const Result<Incoming> in = decode_incoming(line);
    EXPECT_FALSE(in.has_value()) << line;
    if (!in.has_value()) {
      EXPECT_EQ(in.error().message.rfind("decode reply: ", 0), 0U) << in.error().message;
    }
  }
}

}  // namespace
}  // namespace zagent::rpc
