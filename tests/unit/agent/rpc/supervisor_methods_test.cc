// The supervisor family (versions, state, pid, shutdown, restart) and the state gate.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/agent/rpc/methods_fixture.h"

namespace zagent::rpc_test {
namespace {

// ---- agent methods ----------------------------------------------------------------------------

TEST_F(RpcMethodsTest, VersionsIdentificationStateAndPid) {
  make("identifier=zed\n" + kWeb);
  EXPECT_EQ(call("supervisor.getAPIVersion"), R("3.0"));
  EXPECT_EQ(call("supervisor.getVersion"), R("3.0"));
  EXPECT_EQ(call("supervisor.getSupervisorVersion"), R("4.2.5"));
  EXPECT_EQ(call("supervisor.getIdentification"), R("zed"));
  EXPECT_EQ(call("supervisor.getState"), R({{"statecode", 1}, {"statename", "RUNNING"}}));
  EXPECT_EQ(call("supervisor.getPID"), R(4242));
}

TEST_F(RpcMethodsTest, IdentificationDefaultsToSupervisor) {
  make(kWeb);
  EXPECT_EQ(call("supervisor.getIdentification"), R("supervisor"));
}

TEST_F(RpcMethodsTest, ShutdownAndRestartReplyTrueThenAsk) {
  make(kWeb);
  EXPECT_EQ(call("supervisor.shutdown"), R(true));
  EXPECT_EQ(control_.shutdowns, 1);
  EXPECT_EQ(call("supervisor.restart"), R(true));
  EXPECT_EQ(control_.restarts, 1);
}

TEST_F(RpcMethodsTest, EveryCallReportsAChange) {
  make(kWeb);
  const int before = control_.changes;
  call("supervisor.getState");
  call("supervisor.startProcess", {"web", false});
  EXPECT_EQ(control_.changes, before + 2);
}

TEST_F(RpcMethodsTest, StateDuringShutdownAndRestart) {
  make(kWeb);
  control_.agent_state = SupervisorState::Shutdown;
  EXPECT_EQ(call("supervisor.getState"), F(6, "SHUTDOWN_STATE"));
  control_.agent_state = SupervisorState::Restarting;
  EXPECT_EQ(call("supervisor.getState"), F(6, "SHUTDOWN_STATE"));
}

/// A valid argument of each XML-RPC type, for calls where only the state check matters.
Json sample_arg(const std::string& type) {
  if (type == "string") {
    return "web";
  }
  if (type == "int") {
    return 0;
  }
  if (type == "boolean") {
    return false;
  }
  if (type == "array") {
    return Json::array();
  }
  return Json::object();
}

TEST_F(RpcMethodsTest, EverySupervisorMethodButSendRemoteCommEventFailsDuringShutdown) {
  make(kWeb);
  control_.files["/var/log/z.log"] = "log";
  for (const SupervisorState s : {SupervisorState::Shutdown, SupervisorState::Restarting}) {
    control_.agent_state = s;
    int checked = 0;
    for (const std::string& name : methods_->method_names()) {
      if (name.starts_with("system.")) {
        continue;
      }
      control_.agent_state = SupervisorState::Running;
      const Json sig = call("system.methodSignature", {name})["result"];
      control_.agent_state = s;
      Json params = Json::array();
      for (std::size_t i = 1; i < sig.size(); ++i) {
        params.push_back(sample_arg(sig[i].get<std::string>()));
      }
      if (name == "supervisor.sendRemoteCommEvent") {
        EXPECT_EQ(call(name, params), R(true));
      } else {
        EXPECT_EQ(call(name, params), F(6, "SHUTDOWN_STATE")) << name;
      }
      ++checked;
    }
    EXPECT_EQ(checked, 42);  // 37 supervisor.* + zagent.updateProcessGroup, getCrashRecords,
                             // getProcessStats, getGpuStatus, getHealth
    EXPECT_EQ(control_.shutdowns + control_.restarts, 0);
    EXPECT_THAT(spawner_.fake.spawned, IsEmpty());
    // system.* still work.
    EXPECT_EQ(call("system.methodHelp", {"supervisor.getPID"}), R("The agent's process id."));
  }
}

TEST_F(RpcMethodsTest, SendRemoteCommEvent) {
  make(kWeb);
  EXPECT_EQ(call("supervisor.sendRemoteCommEvent", {"type", "data"}), R(true));
}

}  // namespace
}  // namespace zagent::rpc_test
