// attn: the command line. Each command file adds its subcommand (cli/command_line.h); main parses
// the arguments, runs the chosen subcommand and reports its errors.
// Exit codes: 0 success, 2 usage, config or input-data errors, 1 run-time failures.
#include <torch/torch.h>

#include <iostream>

#include "attn/core/errors.h"
#include "attn/runtime/runtime.h"
#include "cli/command_line.h"

int main(int argc, char** argv) {
  using namespace attn;
  keep_freed_memory();
  CLI::App app{"attn: train, evaluate and use the Transformer of Canziani's attention lecture\n"
               "(sets in, sets or one vector out; self/cross and hard/soft attention)"};
  app.set_version_flag("--version", versions());
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default();
  CommandLine cli(app);
  for (auto add : {add_train_command, add_launch_command, add_eval_command, add_predict_command, add_show_command,
                   add_export_command, add_average_command, add_import_command, add_report_command,
                   add_plot_command, add_bleu_command, add_inspect_command, add_bench_commands, add_config_command})
    add(cli);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    return cli.run(argv);
  } catch (const Error& e) {  // attn's own: usage, config, data, checkpoint, launch, distributed
    const std::string label = e.label();
    std::cerr << "attn: " << (label.empty() ? "" : label + ": ") << e.what() << "\n";
    return e.exit_code();
  } catch (const c10::Error& e) {
    std::cerr << "attn: error: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "attn: error: " << e.what() << "\n";
    return 1;
  }
}
