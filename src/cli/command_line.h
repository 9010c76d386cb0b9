// The command line's frame: each command file adds its own subcommand to a CommandLine (its
// options, bound to a request, and what runs it), and main() parses and runs the one chosen. The
// checks and option groups several subcommands share are here too.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace attn {

class CommandLine {
 public:
  explicit CommandLine(CLI::App& app) : app(app) {}

  CLI::App& app;

  /// `cmd` (a subcommand of app or of another subcommand) runs `run` when it is chosen.
  /// `computes`: it runs a model, on the best BLAS kernel this CPU has.
  void add(CLI::App* cmd, std::function<int()> run, bool computes = false);

  /// --trust-checkpoint on `cmd`: open checkpoints in the TorchScript archive format of older
  /// attn versions, whose reader runs code stored in them.
  void add_trust_flag(CLI::App* cmd);

  /// After parsing: runs the chosen subcommand and returns its exit code.
  int run(char** argv) const;

 private:
  struct Entry {
    CLI::App* cmd;
    std::function<int()> run;
    bool computes;
  };
  std::vector<Entry> entries_;
  bool trust_checkpoint_ = false;
};

/// Checks that say their range in words (CLI11's print the largest double in full).
extern const CLI::Validator kPositive;
extern const CLI::Validator kNonNegative;

/// --attention and --device: the options of the subcommands that run a checkpoint's model.
void add_model_options(CLI::App* cmd, std::string& attention, std::string& device, std::string& precision);
/// --beam, --length-penalty, --max-len-a/b: seq2seq decoding; unset ones keep decode.*.
void add_decode_options(CLI::App* cmd, DecodeFlags& flags);

// Each command file adds its subcommands, in the order `attn --help` lists them.
void add_train_command(CommandLine& cli);    // train_command.cpp
void add_launch_command(CommandLine& cli);   // launch_command.cpp
void add_eval_command(CommandLine& cli);     // eval_command.cpp
void add_predict_command(CommandLine& cli);  // predict_command.cpp
void add_show_command(CommandLine& cli);     // show_command.cpp
void add_export_command(CommandLine& cli);   // export_command.cpp
void add_average_command(CommandLine& cli);  // average_command.cpp
void add_import_command(CommandLine& cli);   // import_command.cpp
void add_report_command(CommandLine& cli);   // report_command.cpp
void add_plot_command(CommandLine& cli);     // plot_command.cpp
void add_bleu_command(CommandLine& cli);     // bleu_command.cpp
void add_inspect_command(CommandLine& cli);  // inspect_command.cpp
/// `bench decode|train|eval|attention|allreduce|matmul` (bench_command.cpp), train and eval
/// added to `bench` by add_bench_step_commands (bench_train_command.cpp).
void add_bench_commands(CommandLine& cli);
void add_bench_step_commands(CommandLine& cli, CLI::App* bench);
void add_config_command(CommandLine& cli);   // config_command.cpp

}  // namespace attn
