// The config reader: a JSON file, then overrides. Input: the file's text, and after the first
// NUL byte one "key.path=value" override per line.
#include "attn/config/config.h"
#include "fuzz_support.h"

#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input = attn::fuzz::as_string(data, size);
  const auto nul = input.find('\0');
  const auto path = attn::fuzz::write_file("config.json", input.substr(0, nul));
  std::vector<std::string> overrides;
  if (nul != std::string::npos) {
    std::istringstream lines(input.substr(nul + 1));
    for (std::string line; std::getline(lines, line);) overrides.push_back(line);
  }
  try {
    const auto cfg = attn::load_config(path, overrides);
    // What is accepted must survive the round trip the run directory and checkpoints rely on.
    const auto again = attn::config_from_json(attn::to_json(cfg));
    if (attn::to_json(again) != attn::to_json(cfg)) __builtin_trap();
  } catch (const attn::ConfigError&) {
  }
  return 0;
}
