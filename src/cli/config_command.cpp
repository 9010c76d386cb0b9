// `attn config defaults` prints the complete default config; `attn config validate FILE` checks
// a config file, its overrides and (unless --skip-data) that the data files it names are there.
#include <filesystem>
#include <iostream>

#include "attn/config/config.h"
#include "cli/command_line.h"

namespace attn {

namespace {

// The files the data section names are there (training would fail on them later).
void check_data_files(const Config& c) {
  const auto& d = c.data;
  if (is_generated(d.kind)) return;  // built-in tasks read no files
  const std::pair<const char*, const std::string*> files[] = {
      {"data.path", &d.path},           {"data.target_path", &d.target_path},
      {"data.valid_path", &d.valid_path}, {"data.valid_target_path", &d.valid_target_path},
      {"data.test_path", &d.test_path},   {"data.test_target_path", &d.test_target_path}};
  for (const auto& [key, path] : files) {
    std::error_code ec;
    if (path->empty()) continue;
    if (!std::filesystem::exists(*path, ec))
      throw DataError(std::string(key) + ": " + quote_value(*path) + " does not exist");
    const bool want_dir = d.kind == DataKind::Imdb && std::string(key) == "data.path";
    if (want_dir != std::filesystem::is_directory(*path, ec))
      throw DataError(std::string(key) + ": " + quote_value(*path) + " is " +
                      (want_dir ? "not a directory (the IMDB root holds train/ and test/)" : "a directory, not a file"));
  }
}

struct ValidateRequest {
  std::string path;
  std::vector<std::string> overrides;
  bool skip_data = false;
};

}  // namespace

void add_config_command(CommandLine& cli) {
  auto* config = cli.app.add_subcommand("config", "Print the default config, or validate a config file");
  config->require_subcommand(1);
  auto* defaults = config->add_subcommand("defaults", "Print the complete default config (the built-in default run)");
  cli.add(defaults, [] {
    std::cout << to_json(Config{}).dump(2) << "\n";
    return 0;
  });
  auto req = std::make_shared<ValidateRequest>();
  auto* validate = config->add_subcommand("validate", "Check a config file and its overrides");
  validate->add_option("config", req->path, "Config file")->required();
  validate->add_option("--set", req->overrides, "Override a config key: key.path=value (repeatable)");
  validate->add_flag("--skip-data", req->skip_data, "Check the config alone, not that its data files exist");
  cli.add(validate, [req] {
    const Config c = load_config(req->path, req->overrides);
    if (!req->skip_data) check_data_files(c);
    std::cout << req->path << ": ok\n";
    return 0;
  });
}

}  // namespace attn
