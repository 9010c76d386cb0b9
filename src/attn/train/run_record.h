// What made a run, kept in its directory as run.json: the config file and the --set overrides
// it was started with (and those each resume added), every command line that ran it, and the
// CRC-32 of the config.json attn wrote, so that an edit by hand is noticed instead of being
// silently overwritten. `attn train --out DIR --resume` continues the run as it was made.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace attn {

struct RunRecord {
  std::string config_path;             ///< as given on the first start ("" : the built-in default)
  std::vector<std::string> overrides;  ///< every --set so far, in order (later ones win)
  std::vector<std::string> commands;   ///< the command lines, first start first
  std::string config_crc32;            ///< of the config.json attn wrote last
};

/// DIR/run.json; nullopt when there is none (a run of an older attn) or it does not parse.
std::optional<RunRecord> read_run_record(const std::string& dir);

/// Writes DIR/run.json atomically.
void write_run_record(const std::string& dir, const RunRecord& record);

}  // namespace attn
