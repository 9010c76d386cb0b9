#include "attn/train/run_record.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "attn/core/atomic_file.h"

namespace attn {

namespace fs = std::filesystem;
using nlohmann::json;

std::optional<RunRecord> read_run_record(const std::string& dir) {
  std::ifstream in(fs::path(dir) / "run.json");
  if (!in) return std::nullopt;
  const json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  try {
    RunRecord r;
    r.config_path = j.at("config").get<std::string>();
    r.overrides = j.at("overrides").get<std::vector<std::string>>();
    r.commands = j.value("commands", std::vector<std::string>{});
    r.config_crc32 = j.value("config_json_crc32", "");
    return r;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

void write_run_record(const std::string& dir, const RunRecord& r) {
  const json j = {{"config", r.config_path},
                  {"overrides", r.overrides},
                  {"commands", r.commands},
                  {"config_json_crc32", r.config_crc32}};
  write_file_atomically((fs::path(dir) / "run.json").string(), j.dump(2) + "\n");
}

}  // namespace attn
