// Built-in set-to-set tasks, generated from a seed so that a fresh machine needs no download.
// Sources and targets are lines of numbers "0".."symbols-1", between ceil(set_size/2) and
// set_size of them.
//
//  sort:     a multiset of numbers -> the numbers in ascending order. The input really is a set
//            (train it with positions "none" on the encoder); the decoder emits a sequence.
//            "7 2 9 2" -> "2 2 7 9"
//  copy:     a sequence -> the same sequence.      "7 2 9" -> "7 2 9"
//  reverse:  a sequence -> the sequence reversed.  "7 2 9" -> "9 2 7"
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attn/core/choices.h"

#include "attn/data/seq2seq/parallel_text.h"

namespace attn {

/// kind Sort | Copy | Reverse; any other is a DataError.
std::vector<TextPair> generate_pairs(DataKind kind, int64_t count, int64_t set_size, int64_t symbols,
                                     uint64_t seed);

/// A built-in set-to-set task (as opposed to parallel files)?
bool is_seq2seq_task(DataKind kind);

}  // namespace attn
