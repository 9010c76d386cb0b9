// The errors attn reports to its users. Each message says what went wrong, where (the file,
// the config key, the line) and what to do; main() catches attn::Error once, prints
// "attn: <label>: <message>" and exits with exit_code(). Torch-free.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace attn {

class Error : public std::runtime_error {
 public:
  enum class Kind {
    Usage,        ///< a command line that asks for something impossible (--resume without a run)
    Config,       ///< a config value: the message names its JSON path and what is allowed
    Data,         ///< input data: the message names the file and line
    Checkpoint,   ///< a file that is not a readable attn checkpoint (damaged, foreign, newer)
    LaunchEnv,    ///< a malformed launch environment (RANK=2 with WORLD_SIZE=2)
    Distributed,  ///< a failure between processes: rendezvous, a rank that died or hangs
    NonFinite,    ///< a non-finite loss or gradient with train.nonfinite "stop"
  };

  Error(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

  /// 2 for what the user gave (usage, config, data, checkpoint, launch environment): fix the
  /// input and run again; 1 for failures while running.
  int exit_code() const {
    return kind_ == Kind::Distributed || kind_ == Kind::NonFinite ? 1 : 2;
  }

  /// What main() prints before the message: "config error", ...; empty for usage errors,
  /// whose messages name the flag themselves.
  const char* label() const {
    switch (kind_) {
      case Kind::Usage: return "";
      case Kind::Config: return "config error";
      case Kind::Data: return "data error";
      case Kind::Checkpoint: return "checkpoint error";
      case Kind::LaunchEnv: return "distributed launch error";
      case Kind::Distributed: return "distributed error";
      case Kind::NonFinite: return "error";
    }
    return "error";
  }

 private:
  Kind kind_;
};

/// One class per kind, so that code can catch the one it handles.
template <Error::Kind K>
struct ErrorOf : Error {
  explicit ErrorOf(const std::string& message) : Error(K, message) {}
};

using UsageError = ErrorOf<Error::Kind::Usage>;
using ConfigError = ErrorOf<Error::Kind::Config>;
using DataError = ErrorOf<Error::Kind::Data>;
using CheckpointError = ErrorOf<Error::Kind::Checkpoint>;
using DistEnvError = ErrorOf<Error::Kind::LaunchEnv>;
using DistributedError = ErrorOf<Error::Kind::Distributed>;
using NonFiniteError = ErrorOf<Error::Kind::NonFinite>;

/// `value` in double quotes for a message: at most `max` bytes of it (cut at a UTF-8 character
/// boundary), then "... (N bytes)", so that no value floods a terminal.
inline std::string quote_value(std::string_view value, size_t max = 200) {
  if (value.size() <= max) return "\"" + std::string(value) + "\"";
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
  return "\"" + std::string(value.substr(0, cut)) + "\"... (" + std::to_string(value.size()) + " bytes)";
}

}  // namespace attn
