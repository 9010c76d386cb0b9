#include "attn/core/choices.h"

namespace attn {

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += "\"" + names[i] + "\"";
  }
  return out;
}

#define ATTN_CHOICES(E, ...)                       \
  template <>                                      \
  const Choices<E>& choices<E, void>() {           \
    static const Choices<E> table{__VA_ARGS__};    \
    return table;                                  \
  }

ATTN_CHOICES(AttentionMode, "attention mode", {{AttentionMode::Soft, "soft"}, {AttentionMode::Hard, "hard"}})
ATTN_CHOICES(HardGradient, "hard_gradient",
             {{HardGradient::StraightThrough, "straight_through"}, {HardGradient::None, "none"}})
ATTN_CHOICES(Kernel, "kernel",
             {{Kernel::Fused, "fused"}, {Kernel::Reference, "reference"}})
ATTN_CHOICES(Activation, "activation", {{Activation::ReLU, "relu"}, {Activation::GELU, "gelu"}})
ATTN_CHOICES(Positions, "positions",
             {{Positions::Sinusoidal, "sinusoidal"}, {Positions::Learned, "learned"}, {Positions::None, "none"}})
ATTN_CHOICES(NormPlacement, "norm", {{NormPlacement::Post, "post"}, {NormPlacement::Pre, "pre"}})
ATTN_CHOICES(Pooling, "pooling",
             {{Pooling::Max, "max"}, {Pooling::Mean, "mean"}, {Pooling::Attention, "attention"}})
ATTN_CHOICES(BetaSchedule, "beta_schedule",
             {{BetaSchedule::Constant, "constant"}, {BetaSchedule::Linear, "linear"},
              {BetaSchedule::Exponential, "exponential"}})
ATTN_CHOICES(AttentionPlace, "attention place",
             {{AttentionPlace::Encoder, "encoder"}, {AttentionPlace::Decoder, "decoder"},
              {AttentionPlace::Cross, "cross"}, {AttentionPlace::Pooling, "pooling"}})
ATTN_CHOICES(TaskKind, "task", {{TaskKind::Classify, "classify"}, {TaskKind::Seq2Seq, "seq2seq"}})
ATTN_CHOICES(DataKind, "data kind",
             {{DataKind::Majority, "majority"}, {DataKind::Retrieval, "retrieval"}, {DataKind::Imdb, "imdb"},
              {DataKind::Tsv, "tsv"}, {DataKind::Csv, "csv"}, {DataKind::Jsonl, "jsonl"}, {DataKind::Sort, "sort"},
              {DataKind::Copy, "copy"}, {DataKind::Reverse, "reverse"}, {DataKind::Parallel, "parallel"}})
ATTN_CHOICES(Tokenization, "tokenizer",
             {{Tokenization::Whitespace, "whitespace"}, {Tokenization::Words, "words"},
              {Tokenization::SentencePiece, "sentencepiece"}})
ATTN_CHOICES(SubwordModel, "subword model", {{SubwordModel::Unigram, "unigram"}, {SubwordModel::Bpe, "bpe"}})
ATTN_CHOICES(HeaderLine, "header", {{HeaderLine::Auto, "auto"}, {HeaderLine::Yes, "true"}, {HeaderLine::No, "false"}})
ATTN_CHOICES(Metric, "metric",
             {{Metric::Accuracy, "accuracy"}, {Metric::Loss, "loss"}, {Metric::Bleu, "bleu"},
              {Metric::ExactMatch, "exact_match"}, {Metric::HardAccuracy, "hard_accuracy"},
              {Metric::HardLoss, "hard_loss"}, {Metric::HardBleu, "hard_bleu"},
              {Metric::HardExactMatch, "hard_exact_match"}})
ATTN_CHOICES(OptimizerKind, "optimizer", {{OptimizerKind::AdamW, "adamw"}, {OptimizerKind::SGD, "sgd"}})
ATTN_CHOICES(LrSchedule, "schedule",
             {{LrSchedule::Constant, "constant"}, {LrSchedule::Cosine, "cosine"}, {LrSchedule::Linear, "linear"},
              {LrSchedule::InverseSqrt, "inverse_sqrt"}})
ATTN_CHOICES(NonFinite, "nonfinite", {{NonFinite::Stop, "stop"}, {NonFinite::Skip, "skip"}})
ATTN_CHOICES(Precision, "precision", {{Precision::Fp32, "fp32"}, {Precision::Bf16, "bf16"}})
#undef ATTN_CHOICES

DeviceChoice parse_device(const std::string& name) {
  using Kind = DeviceChoice::Kind;
  if (name == "auto") return {Kind::Auto, -1};
  if (name == "cpu") return {Kind::Cpu, -1};
  if (name == "cuda") return {Kind::Cuda, -1};
  const std::string digits = name.rfind("cuda:", 0) == 0 ? name.substr(5) : "";
  if (!digits.empty() && digits.size() <= 9 && digits.find_first_not_of("0123456789") == std::string::npos)
    return {Kind::Cuda, std::stoll(digits)};
  throw std::invalid_argument("must be \"auto\", \"cpu\", \"cuda\" or \"cuda:N\"; got \"" + name + "\"");
}

std::string to_string(const DeviceChoice& device) {
  switch (device.kind) {
    case DeviceChoice::Kind::Auto: return "auto";
    case DeviceChoice::Kind::Cpu: return "cpu";
    case DeviceChoice::Kind::Cuda: break;
  }
  return device.index < 0 ? "cuda" : "cuda:" + std::to_string(device.index);
}

}  // namespace attn
