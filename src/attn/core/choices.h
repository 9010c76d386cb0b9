// The config's named choices: each enum and the names a config spells it with, written once.
// parse<E>(name) and to_string(e) read the same table; the config checks its strings against
// choice_names<E>(). Torch-free.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <string>
#include <utility>
#include <vector>

namespace attn {

/// How a query picks among the keys: `Soft` = softargmax (a mix of values), `Hard` = one-hot
/// argmax (exactly one value). Ties under `Hard` go to the lowest key index.
enum class AttentionMode { Soft, Hard };

/// The gradient of hard attention through its weights (the one-hot argmax has none of its own).
enum class HardGradient {
  StraightThrough,  ///< forward one-hot, backward as if the weights were the softargmax (default)
  None,             ///< no gradient through the weights; the values still get theirs
};

/// How attention, the 1-convolution or an add & norm runs: `Fused` = attn's own kernel
/// (attn/ops/) where it applies, `Reference` = the plain LibTorch computation, always (the
/// reference in tests).
enum class Kernel { Fused, Reference };

/// The nonlinearity of the 1-convolution.
enum class Activation { ReLU, GELU };

/// `Sinusoidal`: the notebook's fixed table E(p, 2i) = sin(p / 10000^(2i/D)), E(p, 2i+1) = cos(..).
/// `Learned`: a trained table. `None`: no positions at all, so the input really is a set.
enum class Positions { Sinusoidal, Learned, None };

/// Post-norm: x = LN(x + f(x)) (the notebook). Pre-norm: x = x + f(LN(x)), with a final LN.
enum class NormPlacement { Post, Pre };

/// `Max` (the notebook) and `Mean` over the elements; `Attention`: one learned query
/// cross-attends over the set (one query against all keys). Padding never takes part.
enum class Pooling { Max, Mean, Attention };

/// How the inverse temperature beta moves over a run, from model.beta to model.beta_end:
/// `Constant` (it stays at model.beta), `Linear` in the step, `Exponential` (geometric: the same
/// factor each step). Soft attention at a growing beta approaches hard attention.
enum class BetaSchedule { Constant, Linear, Exponential };

/// Where a model's attention is hard when model.attention (or `--attention`) says "hard":
/// `Encoder` self-attention, `Decoder` (causal) self-attention, `Cross` (decoder over encoder),
/// `Pooling` (the set classifier's query over the set).
enum class AttentionPlace { Encoder, Decoder, Cross, Pooling };

/// config.task: `Classify` (a set in, one vector out: the set classifier) or `Seq2Seq` (a set or
/// sequence in, a sequence out: the encoder-decoder).
enum class TaskKind { Classify, Seq2Seq };

/// data.kind: where the examples come from. Generated from the seed: the set tasks `Majority`
/// and `Retrieval` (classify), `Sort`, `Copy` and `Reverse` (seq2seq). Read from files: `Imdb`
/// (the aclImdb layout), `Tsv`, `Csv`, `Jsonl` (labelled tables; classify), `Parallel` (a
/// source and a target file, or a TSV of pairs; seq2seq).
enum class DataKind { Majority, Retrieval, Imdb, Tsv, Csv, Jsonl, Sort, Copy, Reverse, Parallel };

/// A built-in task, generated from the seed rather than read from files.
inline bool is_generated(DataKind k) {
  return k == DataKind::Majority || k == DataKind::Retrieval || k == DataKind::Sort || k == DataKind::Copy ||
         k == DataKind::Reverse;
}

/// data.tokenizer: `Whitespace` (the notebook: split at spaces), `Words` (punctuation and
/// <br /> split off), `SentencePiece` (subwords; seq2seq).
enum class Tokenization { Whitespace, Words, SentencePiece };

/// data.subword_model: sentencepiece's model type.
enum class SubwordModel { Unigram, Bpe };

/// data.header (and predict's --header): is a table's first line a header? `Auto`: when it names
/// the columns.
enum class HeaderLine { Auto, Yes, No };

/// train.metric: what chooses best.pt and early stopping; each also measured with hard attention
/// (model.hard_in) as `Hard...`. `Bleu` and `ExactMatch` are seq2seq's.
enum class Metric { Accuracy, Loss, Bleu, ExactMatch, HardAccuracy, HardLoss, HardBleu, HardExactMatch };

/// Measured with hard attention.
inline bool is_hard(Metric m) { return m >= Metric::HardAccuracy; }
/// Lower is better (the losses).
inline bool lower_is_better(Metric m) { return m == Metric::Loss || m == Metric::HardLoss; }

/// train.optimizer: AdamW (attn's fused update) or SGD with momentum.
enum class OptimizerKind { AdamW, SGD };

/// train.schedule: the learning rate over the run after train.warmup_steps of linear warm-up:
/// `Constant`, `Cosine` or `Linear` decay to lr * min_lr_ratio at the last step, or
/// `InverseSqrt` (lr * min(s / warmup, sqrt(warmup / s)), the Transformer paper's).
enum class LrSchedule { Constant, Cosine, Linear, InverseSqrt };

/// train.nonfinite: what a non-finite loss or gradient does: `Stop` the run before the update,
/// or `Skip` the step.
enum class NonFinite { Stop, Skip };

/// config.precision: the arithmetic of the large matrix products (projections, feed-forward, the
/// output projection and its gradients). `Fp32`: float32 throughout. `Bf16`: their operands
/// rounded to bfloat16 (8 bits of mantissa), products summed in float32 into float32 results,
/// as PyTorch's autocast to bfloat16 does; weights, optimizer state, attention's softmax, norms
/// and the loss stay float32. Runs on AMX or AVX512-BF16 where the CPU has them (oneDNN's
/// kernels), emulated (no faster) where it has not.
enum class Precision { Fp32, Bf16 };

/// The table of an enum: what it is called in messages, and each value with its name.
template <class E>
struct Choices {
  const char* what;
  std::vector<std::pair<E, const char*>> names;
};

/// Each enum above has a table (choices.cpp); other types have none.
template <class E>
struct is_choice : std::false_type {};

template <class E, class = std::enable_if_t<is_choice<E>::value>>
const Choices<E>& choices();

#define ATTN_CHOICE(E)                       \
  template <>                                \
  struct is_choice<E> : std::true_type {};   \
  template <>                                \
  const Choices<E>& choices<E, void>();
ATTN_CHOICE(AttentionMode)
ATTN_CHOICE(HardGradient)
ATTN_CHOICE(Kernel)
ATTN_CHOICE(Activation)
ATTN_CHOICE(Positions)
ATTN_CHOICE(NormPlacement)
ATTN_CHOICE(Pooling)
ATTN_CHOICE(BetaSchedule)
ATTN_CHOICE(AttentionPlace)
ATTN_CHOICE(TaskKind)
ATTN_CHOICE(DataKind)
ATTN_CHOICE(Tokenization)
ATTN_CHOICE(SubwordModel)
ATTN_CHOICE(HeaderLine)
ATTN_CHOICE(Metric)
ATTN_CHOICE(OptimizerKind)
ATTN_CHOICE(LrSchedule)
ATTN_CHOICE(NonFinite)
ATTN_CHOICE(Precision)
#undef ATTN_CHOICE

/// The names of E's values, in declaration order: "soft", "hard".
template <class E, class = std::enable_if_t<is_choice<E>::value>>
std::vector<std::string> choice_names() {
  std::vector<std::string> out;
  for (const auto& [value, name] : choices<E>().names) out.emplace_back(name);
  return out;
}

/// E's values, in declaration order.
template <class E, class = std::enable_if_t<is_choice<E>::value>>
std::vector<E> choice_values() {
  std::vector<E> out;
  for (const auto& [value, name] : choices<E>().names) out.push_back(value);
  return out;
}

/// `"a", "b" or "c"`: the names for a message.
std::string quoted_list(const std::vector<std::string>& names);

/// The value named `name`; anything else throws std::invalid_argument naming the value and the
/// choices ("attention mode must be \"soft\" or \"hard\", got \"medium\"").
template <class E, class = std::enable_if_t<is_choice<E>::value>>
E parse(const std::string& name) {
  for (const auto& [value, n] : choices<E>().names)
    if (name == n) return value;
  throw std::invalid_argument(std::string(choices<E>().what) + " must be " + quoted_list(choice_names<E>()) +
                              ", got \"" + name + "\"");
}

/// The name of `value` (found by argument-dependent lookup for every enum above).
template <class E, class = std::enable_if_t<is_choice<E>::value>>
std::string to_string(E value) {
  for (const auto& [v, name] : choices<E>().names)
    if (v == value) return name;
  return "?";
}

/// config.device: where a run computes. `Auto`: the first CUDA device where there is one, else
/// the CPU; `Cuda`: CUDA device `index` ("cuda:N"; "cuda" alone is index -1: the current one).
/// Spelled "auto", "cpu", "cuda" or "cuda:N" in configs and on the command line.
struct DeviceChoice {
  enum class Kind { Auto, Cpu, Cuda };
  Kind kind = Kind::Auto;
  int64_t index = -1;
  bool operator==(const DeviceChoice& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const DeviceChoice& o) const { return !(*this == o); }
};

/// The device a name spells; anything else throws std::invalid_argument ("device must be
/// \"auto\", \"cpu\", \"cuda\" or \"cuda:N\", got \"gpu\"").
DeviceChoice parse_device(const std::string& name);

/// "auto", "cpu", "cuda" or "cuda:N".
std::string to_string(const DeviceChoice& device);

}  // namespace attn
