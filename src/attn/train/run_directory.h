// A run's directory, written by rank 0 alone: config.json (the resolved config), run.json (what
// made the run, run_record.h), train.log, metrics.jsonl (one JSON record per log interval,
// validation and the final test), curves.png (drawn from it at the end) and checkpoints/. Other
// ranks write nothing: their warnings go to the console, marked with the rank.
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "attn/config/config.h"
#include "attn/train/run_lock.h"
#include "attn/train/run_record.h"

namespace attn {

class RunDirectory {
 public:
  /// Rank 0 (`lead`, holding `lock`): creates `out` (with `force`, first moves an existing one
  /// aside to out.bak-TIME), removes temporary files a killed write left in checkpoints/, keeps
  /// a config.json edited by hand (as config.json.edited-TIME), writes config.json and run.json
  /// and opens the log and the metrics. Other ranks: a console logger only.
  RunDirectory(const std::string& out, bool force, const Config& config, RunRecord record, RunLock* lock,
               bool lead, int rank, std::chrono::steady_clock::time_point run_start);

  const std::string& path() const { return out_; }
  std::string checkpoints() const;
  spdlog::logger& log() { return *log_; }
  /// Appends `record` to metrics.jsonl with the seconds since the run started (rank 0 only).
  void record(nlohmann::json record);
  /// Draws metrics.jsonl as curves.png (what `attn plot RUN` draws); a failure is a warning.
  void draw_curves();

 private:
  std::string out_;
  bool lead_;
  std::chrono::steady_clock::time_point run_start_;
  std::shared_ptr<spdlog::logger> log_;
  std::ofstream metrics_;
};

}  // namespace attn
