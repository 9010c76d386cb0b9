// The classification file loaders: TSV and CSV (libcsv) with or without a header line, and JSON
// lines, each with the default columns and with columns named.
#include "attn/data/classify/text_files.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = attn::fuzz::write_file("data.txt", attn::fuzz::as_string(data, size));
  const attn::LabelledColumns plain, named{attn::HeaderLine::Auto, "sentence", "label"},
      indexed{attn::HeaderLine::No, "0", "2"};
  for (const auto kind : {attn::DataKind::Tsv, attn::DataKind::Csv, attn::DataKind::Jsonl})
    for (const auto* columns : {&plain, &named, &indexed}) {
      try {
        const auto file = attn::read_labelled_file(kind, path, *columns);
        for (const auto& e : file.examples)
          if (e.label.empty()) __builtin_trap();  // an accepted example always has a label
      } catch (const attn::DataError&) {
      }
    }
  return 0;
}
