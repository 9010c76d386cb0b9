// `attn train`: a run from a config, and its one-line JSON summary.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"

namespace attn {

using nlohmann::json;

int run_train(const TrainRequest& request) {
  auto r = train(request);
  if (r.interrupted) return 128 + r.interrupted;  // 130 for SIGINT, 143 for SIGTERM, as shells report
  if (r.rank != 0) return 0;                      // rank 0 reports for the job
  json summary = {{"out", r.out_dir}, {"best_checkpoint", r.best_checkpoint}, {"steps", r.steps},
                  {"seconds", r.seconds}, {"valid_accuracy", r.best_valid.value("accuracy", 0.0)}};
  if (!r.test.is_null()) summary["test_accuracy"] = r.test["accuracy"];
  if (!r.averaged_test.is_null()) summary["averaged_test_accuracy"] = r.averaged_test["accuracy"];
  std::cout << summary.dump() << "\n";
  return 0;
}

}  // namespace attn
