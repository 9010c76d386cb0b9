// How a run gets its training Task, as a type: each task kind has its factory (cli/task_kinds.h
// chooses among them by config.task). Declares no LibTorch header.
#pragma once

#include <functional>
#include <memory>

#include "attn/config/config.h"

namespace c10 {
struct Device;
}  // namespace c10

namespace attn {

class Task;
struct CheckpointHeader;

/// The task a config describes, with its data read and checked and its model built on `device`.
/// `resume` (may be null) supplies the vocabulary, labels or codecs of a checkpoint; `threads`:
/// what the data preparation may use (sentencepiece's training).
using TaskFactory = std::function<std::unique_ptr<Task>(const Config& config, const c10::Device& device,
                                                        const CheckpointHeader* resume, int threads)>;

}  // namespace attn
