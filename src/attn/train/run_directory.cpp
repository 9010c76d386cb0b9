#include "attn/train/run_directory.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iterator>

#include "attn/core/atomic_file.h"
#include "attn/core/stopwatch.h"
#include "attn/draw/training_curves.h"
#include "attn/io/checkpoint_format.h"

namespace attn {

namespace fs = std::filesystem;

namespace {

std::shared_ptr<spdlog::logger> make_logger(const std::string& log_path) {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_path);
  auto logger = std::make_shared<spdlog::logger>("attn", spdlog::sinks_init_list{console, file});
  logger->set_pattern("%Y-%m-%d %H:%M:%S %v");
  logger->flush_on(spdlog::level::info);
  return logger;
}

std::shared_ptr<spdlog::logger> make_rank_logger(int rank) {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("attn", console);
  logger->set_pattern("%Y-%m-%d %H:%M:%S [rank " + std::to_string(rank) + "] %v");
  logger->set_level(spdlog::level::warn);
  return logger;
}

bool holds_more_than_its_lock(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename() != "run.lock") return true;
  return false;
}

std::string time_stamp() {
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  return stamp;
}

std::string crc32_hex(const std::string& text) {
  return checkpoint_format::hex32(checkpoint_format::crc32_of(text.data(), text.size()));
}

}  // namespace

RunDirectory::RunDirectory(const std::string& out, bool force, const Config& config, RunRecord record, RunLock* lock,
                           bool lead, int rank, std::chrono::steady_clock::time_point run_start)
    : out_(out), lead_(lead), run_start_(run_start) {
  if (!lead) {
    log_ = make_rank_logger(rank);
    return;
  }
  const fs::path config_path = fs::path(out) / "config.json";
  if (force && holds_more_than_its_lock(out)) {
    const std::string aside = out + ".bak-" + time_stamp();
    fs::rename(out, aside);
    if (lock) lock->moved_aside(aside);
    std::fprintf(stderr, "[run] --force: moved the existing %s to %s\n", out.c_str(), aside.c_str());
  }
  const auto ckpt_dir = checkpoints();
  fs::create_directories(ckpt_dir);
  for (const auto& e : fs::directory_iterator(ckpt_dir))  // left by a write that was killed
    if (e.path().filename().string().find(".pt.tmp.") != std::string::npos) {
      std::fprintf(stderr, "[run] removing %s, an unfinished write of a killed run\n", e.path().c_str());
      fs::remove(e.path());
    }
  // attn never reads config.json back on --resume (the checkpoint's config is the run's): an
  // edit by hand is kept beside the new one, with a word, rather than overwritten unseen.
  std::ifstream before(config_path, std::ios::binary);
  const std::string old_text{std::istreambuf_iterator<char>(before), std::istreambuf_iterator<char>()};
  if (!old_text.empty() && !record.config_crc32.empty() && crc32_hex(old_text) != record.config_crc32) {
    const auto kept = config_path.string() + ".edited-" + time_stamp();
    fs::rename(config_path, kept);
    std::fprintf(stderr,
                 "[run] warning: %s was edited since attn wrote it; edits there are not used (a resumed run "
                 "takes its checkpoint's config; change train.* with --set). The edited file is kept as %s\n",
                 config_path.c_str(), kept.c_str());
  }
  const std::string text = to_json(config).dump(2) + "\n";
  write_file_atomically(config_path.string(), text);
  record.config_crc32 = crc32_hex(text);
  write_run_record(out, record);
  log_ = make_logger((fs::path(out) / "train.log").string());
  metrics_.open((fs::path(out) / "metrics.jsonl").string(), std::ios::app);
}

std::string RunDirectory::checkpoints() const { return (fs::path(out_) / "checkpoints").string(); }

void RunDirectory::record(nlohmann::json j) {
  if (!lead_) return;
  j["time"] = seconds_since(run_start_);
  metrics_ << j.dump() << "\n";
  metrics_.flush();
}

void RunDirectory::draw_curves() {
  if (!lead_) return;
  const std::string path = (fs::path(out_) / "curves.png").string();
  try {
    const std::vector<RunMetrics> runs = {read_run_metrics(out_)};
    draw_line_charts(training_curves(runs, default_curve_metrics(runs), "training curves: " + runs[0].name),
                     FigureFormat::Png, path);
  } catch (const std::exception& e) {  // a picture never fails a run
    log_->warn("[run] could not draw {}: {}", path, e.what());
  }
}

}  // namespace attn
