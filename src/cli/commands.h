// The subcommands behind the command line; each returns the process exit code and throws the
// library's errors (ConfigError, DataError, UsageError, CheckpointError, ...) for main to report.
#pragma once

#include <string>

#include "attn/train/trainer.h"

namespace attn {

int run_train(const TrainRequest& request);

struct EvalRequest {
  std::string target;
  std::string data_path;
  std::string split = "test";
  std::string attention;
  std::string device;
  bool json = false;
};
int run_eval(const EvalRequest& request);

struct PredictRequest {
  std::string target;
  std::string input = "-";
  std::string attention;
  std::string device;
  bool json = false;
};
int run_predict(const PredictRequest& request);

struct InspectRequest {
  std::string target;
  bool json = false;
};
int run_inspect(const InspectRequest& request);

}  // namespace attn
