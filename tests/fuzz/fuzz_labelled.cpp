// The classification file loaders: TSV (label<TAB>text) and JSON lines ({"text":..,"label":..}).
#include "attn/data/classify/text_files.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = attn::fuzz::write_file("data.txt", attn::fuzz::as_string(data, size));
  for (const char* kind : {"tsv", "jsonl"}) {
    try {
      const auto examples = attn::read_labelled_file(kind, path);
      for (const auto& e : examples)
        if (e.label.empty()) __builtin_trap();  // an accepted example always has a label
    } catch (const attn::DataError&) {
    }
  }
  return 0;
}
