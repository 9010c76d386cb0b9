// Built-in set-to-vector tasks, generated from a seed so that a fresh machine needs no download.
// Each example is a line of whitespace-separated tokens whose order carries no information.
//
//  majority:  a multiset of `set_size` symbols s0..s{n-1}; the label is the symbol that occurs
//             most often (generated so that it is unique).  "s3 s1 s3 s0 s3 s1" -> "s3"
//  retrieval: the lecture's key-value store (the lasagna example): `set_size` pairs kI:vJ with
//             distinct keys, plus one query ?kI; the label is the value stored under the query.
//             "k2:v7 k0:v1 ?k0 k5:v3" -> "v1"
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attn/data/classify/text_files.h"

namespace attn {

std::vector<TextExample> make_majority(int64_t count, int64_t set_size, int64_t symbols, uint64_t seed);
std::vector<TextExample> make_retrieval(int64_t count, int64_t set_size, int64_t symbols, uint64_t seed);

/// Dispatch on the task (Majority | Retrieval; any other is a DataError).
std::vector<TextExample> generate_examples(DataKind kind, int64_t count, int64_t set_size, int64_t symbols,
                                           uint64_t seed);

}  // namespace attn
