// The registry and the system family: introspection, multicall, parameter binding,
// unknown methods, the exception guard; and the facade's process_log_path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/agent/rpc/methods_fixture.h"

namespace zagent::rpc_test {
namespace {

// ---- system.* ---------------------------------------------------------------------------------

const std::vector<std::pair<std::string, Json>> kSignatures = {
    {"supervisor.addProcessGroup", {"boolean", "string"}},
    {"supervisor.clearAllProcessLogs", {"array"}},
    {"supervisor.clearLog", {"boolean"}},
    {"supervisor.clearProcessLog", {"boolean", "string"}},
    {"supervisor.clearProcessLogs", {"boolean", "string"}},
    {"supervisor.getAPIVersion", {"string"}},
    {"supervisor.getAllConfigInfo", {"array"}},
    {"supervisor.getAllProcessInfo", {"array"}},
    {"supervisor.getIdentification", {"string"}},
    {"supervisor.getPID", {"int"}},
    {"supervisor.getProcessInfo", {"struct", "string"}},
    {"supervisor.getState", {"struct"}},
    {"supervisor.getSupervisorVersion", {"string"}},
    {"supervisor.getVersion", {"string"}},
    {"supervisor.readLog", {"string", "int", "int"}},
    {"supervisor.readMainLog", {"string", "int", "int"}},
    {"supervisor.readProcessLog", {"string", "string", "int", "int"}},
    {"supervisor.readProcessStderrLog", {"string", "string", "int", "int"}},
    {"supervisor.readProcessStdoutLog", {"string", "string", "int", "int"}},
    {"supervisor.reloadConfig", {"array"}},
    {"supervisor.removeProcessGroup", {"boolean", "string"}},
    {"supervisor.restart", {"boolean"}},
    {"supervisor.sendProcessStdin", {"boolean", "string", "string"}},
    {"supervisor.sendRemoteCommEvent", {"boolean", "string", "string"}},
    {"supervisor.shutdown", {"boolean"}},
    {"supervisor.signalAllProcesses", {"array", "string"}},
    {"supervisor.signalProcess", {"boolean", "string", "string"}},
    {"supervisor.signalProcessGroup", {"array", "string", "string"}},
    {"supervisor.startAllProcesses", {"array", "boolean"}},
    {"supervisor.startProcess", {"boolean", "string", "boolean"}},
    {"supervisor.startProcessGroup", {"array", "string", "boolean"}},
    {"supervisor.stopAllProcesses", {"array", "boolean"}},
    {"supervisor.stopProcess", {"boolean", "string", "boolean"}},
    {"supervisor.stopProcessGroup", {"array", "string", "boolean"}},
    {"supervisor.tailProcessLog", {"array", "string", "int", "int"}},
    {"supervisor.tailProcessStderrLog", {"array", "string", "int", "int"}},
    {"supervisor.tailProcessStdoutLog", {"array", "string", "int", "int"}},
    {"system.listMethods", {"array"}},
    {"system.methodHelp", {"string", "string"}},
    {"system.methodSignature", {"array", "string"}},
    {"system.multicall", {"array", "array"}},
};

TEST_F(RpcMethodsTest, ListMethodsIsSortedAndHasSupervisordsList) {
  make(kWeb);
  const Json listed = call("system.listMethods")["result"];
  ASSERT_TRUE(listed.is_array());
  std::vector<std::string> names = listed.get<std::vector<std::string>>();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  std::vector<std::string> expected;
  for (const auto& [name, sig] : kSignatures) {
    expected.push_back(name);
  }
  ASSERT_EQ(expected.size(), 41u);
  EXPECT_THAT(names, IsSupersetOf(expected));
  // Anything beyond supervisord's list is a zagent.* extension.
  for (const auto& n : names) {
    if (std::find(expected.begin(), expected.end(), n) == expected.end()) {
      EXPECT_TRUE(n.starts_with("zagent.")) << n;
    }
  }
  EXPECT_EQ(names, methods_->method_names());
}

TEST_F(RpcMethodsTest, MethodSignatureOfEveryMethod) {
  make(kWeb);
  for (const auto& [name, sig] : kSignatures) {
    EXPECT_EQ(call("system.methodSignature", {name}), R(sig)) << name;
  }
  EXPECT_EQ(call("system.methodSignature", {"zagent.updateProcessGroup"}),
            R({"boolean", "string"}));
  EXPECT_EQ(call("system.methodSignature", {"supervisor.nosuch"}), F(4, "SIGNATURE_UNSUPPORTED"));
}

TEST_F(RpcMethodsTest, MethodHelp) {
  make(kWeb);
  for (const auto& [name, sig] : kSignatures) {
    const Json help = call("system.methodHelp", {name});
    ASSERT_TRUE(help.contains("result")) << name;
    EXPECT_FALSE(help["result"].get<std::string>().empty()) << name;
  }
  EXPECT_EQ(call("system.methodHelp", {"supervisor.getVersion"}),
            R("Alias of supervisor.getAPIVersion."));
  EXPECT_EQ(call("system.methodHelp", {"nosuch"}), F(4, "SIGNATURE_UNSUPPORTED"));
}

TEST_F(RpcMethodsTest, MulticallEntriesAreBareValuesOrFaultStructs) {
  make(kWeb);
  EXPECT_EQ(
      call("system.multicall",
           Json::array(
               {Json::array({{{"methodName", "supervisor.getAPIVersion"}},
                             {{"methodName", "supervisor.getProcessInfo"}, {"params", {"nosuch"}}},
                             {{"methodName", "system.multicall"}, {"params", {Json::array()}}},
                             {{"params", Json::array()}},
                             Json("not a struct"),
                             {{"methodName", "supervisor.nosuch"}},
                             {{"methodName", "supervisor.getState"}, {"params", {1}}},
                             {{"methodName", "supervisor.getPID"}, {"params", Json::array()}}})})),
      R({"3.0",
         {{"faultCode", 10}, {"faultString", "BAD_NAME: nosuch"}},
         {{"faultCode", 2},
          {"faultString",
           "INCORRECT_PARAMETERS: Recursive system.multicall "
           "forbidden"}},
         {{"faultCode", 2}, {"faultString", "INCORRECT_PARAMETERS: No methodName"}},
         {{"faultCode", 2}, {"faultString", "INCORRECT_PARAMETERS: No methodName"}},
         {{"faultCode", 1}, {"faultString", "UNKNOWN_METHOD"}},
         {{"faultCode", 2},
          {"faultString", "INCORRECT_PARAMETERS: supervisor.getState takes 0 arguments, got 1"}},
         4242}));
  EXPECT_EQ(call("system.multicall", Json::array({Json::array()})), R(Json::array()));
  EXPECT_EQ(call("system.multicall", {"x"}),
            InvalidParams("system.multicall: parameter 'calls' must be an array"));
}

TEST_F(RpcMethodsTest, MulticallWaitingCallHoldsTheFollowingOnes) {
  make(kWeb + "[program:db]\ncommand=/bin/db\nautostart=false\n");
  auto reply = call_async(
      "system.multicall",
      Json::array(
          {Json::array({{{"methodName", "supervisor.startProcess"}, {"params", {"web"}}},
                        {{"methodName", "supervisor.getProcessInfo"}, {"params", {"web"}}},
                        {{"methodName", "supervisor.startProcess"}, {"params", {"db", true}}},
                        {{"methodName", "supervisor.stopProcess"}, {"params", {"db", false}}}})}));
  ASSERT_FALSE(reply->has_value());
  EXPECT_EQ(state("db"), ProcessState::Stopped);  // not started yet
  advance(1100ms);
  ASSERT_EQ(state("web"), ProcessState::Running);
  ASSERT_FALSE(reply->has_value());  // now waiting for db
  EXPECT_EQ(state("db"), ProcessState::Starting);
  advance(1100ms);
  ASSERT_TRUE(reply->has_value());
  const Json results = (**reply)["result"];
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0], true);
  EXPECT_EQ(results[1]["statename"], "RUNNING");  // ran after the start had finished
  EXPECT_EQ(results[2], true);
  EXPECT_EQ(results[3], true);
  EXPECT_EQ(state("db"), ProcessState::Stopping);
}

// ---- parameter binding ------------------------------------------------------------------------

TEST_F(RpcMethodsTest, PositionalNamedAndDefaultParameters) {
  make(kWeb +
       "[program:db]\ncommand=/bin/db\nautostart=false\n"
       "[program:q]\ncommand=/bin/q\nautostart=false\n");
  EXPECT_EQ(call("supervisor.startProcess", {"web", false}), R(true));
  EXPECT_EQ(call("supervisor.startProcess", Json{{"wait", false}, {"name", "db"}}), R(true));
  auto waiting = call_async("supervisor.startProcess", Json{{"name", "q"}});  // wait = true
  EXPECT_FALSE(waiting->has_value());
  EXPECT_EQ(call("supervisor.getState", Json::object()),
            R({{"statecode", 1}, {"statename", "RUNNING"}}));
  EXPECT_EQ(call("supervisor.getState", Json(nullptr)),
            R({{"statecode", 1}, {"statename", "RUNNING"}}));
  control_.files["/var/log/z.log"] = "abc";
  EXPECT_EQ(call("supervisor.readLog", Json{{"length", 2}, {"offset", 1}}), R("bc"));
}

TEST_F(RpcMethodsTest, WrongParametersAreInvalidParams) {
  make(kWeb);
  EXPECT_EQ(call("supervisor.getState", {1}),
            InvalidParams("supervisor.getState takes 0 arguments, got 1"));
  EXPECT_EQ(call("supervisor.readLog", {0}),
            InvalidParams("supervisor.readLog takes 2 arguments, got 1"));
  EXPECT_EQ(call("supervisor.getProcessInfo", Json::array()),
            InvalidParams("supervisor.getProcessInfo takes 1 argument, got 0"));
  EXPECT_EQ(call("supervisor.startProcess", Json::array()),
            InvalidParams("supervisor.startProcess takes 1 to 2 arguments, got 0"));
  EXPECT_EQ(call("supervisor.startProcess", {"web", true, 3}),
            InvalidParams("supervisor.startProcess takes 1 to 2 arguments, got 3"));
  EXPECT_EQ(call("supervisor.startProcess", {1}),
            InvalidParams("supervisor.startProcess: parameter 'name' must be a string"));
  EXPECT_EQ(call("supervisor.startProcess", {"web", "yes"}),
            InvalidParams("supervisor.startProcess: parameter 'wait' must be a boolean"));
  EXPECT_EQ(call("supervisor.readLog", {"0", 0}),
            InvalidParams("supervisor.readLog: parameter 'offset' must be an int"));
  EXPECT_EQ(call("supervisor.readLog", {0, 1.5}),
            InvalidParams("supervisor.readLog: parameter 'length' must be an int"));
  EXPECT_EQ(call("system.multicall", Json{{"calls", Json::object()}}),
            InvalidParams("system.multicall: parameter 'calls' must be an array"));
  EXPECT_EQ(call("supervisor.startProcess", Json{{"nme", "web"}}),
            InvalidParams("supervisor.startProcess has no parameter 'nme'"));
  EXPECT_EQ(call("supervisor.startProcess", Json{{"wait", true}}),
            InvalidParams("supervisor.startProcess: missing parameter 'name'"));
  EXPECT_EQ(call("supervisor.getState", Json("x")),
            InvalidParams("params must be an array or object"));
  EXPECT_THAT(spawner_.fake.spawned, IsEmpty());
}

TEST_F(RpcMethodsTest, UnknownMethod) {
  make(kWeb);
  const Json unknown = {{"faultCode", 1}, {"faultString", "UNKNOWN_METHOD"}};
  for (const std::string name : {"supervisor.nosuch", "nosuch", "supervisor._update", "a.b.c", "",
                                 "system.nosuch", "zagent.login"}) {
    Json expected = F(-32601, name.empty() ? "Method not found" : "Method not found: " + name);
    expected["error"]["data"] = unknown;
    EXPECT_EQ(call(name), expected) << name;
  }
}

TEST_F(RpcMethodsTest, HasMethod) {
  make(kWeb);
  EXPECT_TRUE(methods_->has_method("supervisor.getState"));
  EXPECT_TRUE(methods_->has_method("zagent.updateProcessGroup"));
  EXPECT_FALSE(methods_->has_method("zagent.followProcessLog"));  // the server's own
  EXPECT_FALSE(methods_->has_method("nosuch"));
}

TEST_F(RpcMethodsTest, ProcessLogPath) {
  make(kWeb + "[program:quiet]\ncommand=/bin/quiet\nautostart=false\nstdout_logfile=NONE\n");
  const auto out = methods_->process_log_path("web", "stdout");
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, "/var/log/web.out");
  const auto err = methods_->process_log_path("web:web", "stderr");
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(*err, "/var/log/web.err");
  EXPECT_EQ(methods_->process_log_path("web:*", "stdout").error(),
            rpc::fault_error(Fault::BadName, "web:*"));
  EXPECT_EQ(methods_->process_log_path("nosuch", "stdout").error(),
            rpc::fault_error(Fault::BadName, "nosuch"));
  EXPECT_EQ(methods_->process_log_path("quiet", "stdout").error(),
            rpc::fault_error(Fault::NoFile, "None"));
}

// Bug: a handler that threw lost its reply, and the client waited forever.
TEST_F(RpcMethodsTest, HandlerExceptionStillReplies) {
  make(kWeb);
  control_.files["/var/log/z.log"] = "abc";
  control_.throw_on_read = true;
  EXPECT_EQ(call("supervisor.readLog", {0, 0}), F(30, "FAILED: disk on fire"));
  EXPECT_EQ(
      call("system.multicall",
           Json::array({Json::array({{{"methodName", "supervisor.readLog"}, {"params", {0, 0}}},
                                     {{"methodName", "supervisor.getPID"}}})})),
      R({{{"faultCode", 30}, {"faultString", "FAILED: disk on fire"}}, 4242}));
}

TEST(SplitNamespec, SupervisordRules) {
  const auto check = [](std::string_view in, const std::string& group,
                        std::optional<std::string> process) {
    const NameSpec s = split_namespec(in);
    EXPECT_EQ(s.group, group) << in;
    EXPECT_EQ(s.process, process) << in;
  };
  check("web", "web", "web");
  check("g:p", "g", "p");
  check("g:*", "g", std::nullopt);
  check("g:", "g", std::nullopt);
  check("g:p:q", "g", "p:q");
  check(":p", "", "p");
  check("", "", "");
}

}  // namespace
}  // namespace zagent::rpc_test
