// Checkpoint averaging: the mean of the weights of several checkpoints of one model (usually the
// last few of a run), as fairseq's average_checkpoints.py, Marian's exponential smoothing and Joey
// NMT's average do; on a translation model usually worth about half a BLEU point over the last
// checkpoint alone.
#pragma once

#include <string>
#include <vector>

#include "attn/infer/model_loader.h"

namespace attn {

struct AverageResult {
  std::string path;                 ///< the file written
  std::vector<std::string> inputs;  ///< the checkpoints averaged, in the order given
  int64_t step = 0;                 ///< the newest input's step, whose header the output carries
  int64_t tensors = 0;              ///< tensors averaged
};

/// Writes to `out` (atomically) a weights-only checkpoint whose every parameter and floating
/// buffer is the mean of the inputs' (summed in float64), with the header of the input of the
/// highest step and metrics {"averaged_from": inputs, "steps": their steps}. The inputs must
/// be two or more checkpoints of one model: the same task, model config and vocabulary or text
/// codecs; otherwise a CheckpointError names the two files and what differs.
/// `load` builds each input's model (cli/task_kinds.h's loader for its task).
AverageResult average_checkpoints(const std::vector<std::string>& inputs, const std::string& out,
                                  const ModelLoader& load);

}  // namespace attn
