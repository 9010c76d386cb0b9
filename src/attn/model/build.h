// Models from the run config's typed model section.
#pragma once

#include <torch/torch.h>

#include "attn/config/config.h"
#include "attn/model/seq2seq.h"
#include "attn/model/set_classifier.h"
#include "attn/ops/kernel_choice.h"

namespace attn {

/// The layer options a model config describes.
LayerOptions layer_options(const ModelConfig& m);

/// Which kernels a model config chooses (model.attention_kernel, ffn_kernel, norm_kernel,
/// loss_kernel): set
/// them with a KernelScope wherever the model runs.
KernelChoice kernels_of(const ModelConfig& m);

/// The set classifier a model config describes, for a vocabulary and a number of classes.
SetClassifier build_classifier(const ModelConfig& m, int64_t vocab_size, int64_t num_classes);

/// The encoder-decoder a seq2seq config describes; decoder_layers 0 = as many as the encoder.
Seq2Seq build_seq2seq(const ModelConfig& m, int64_t source_vocab, int64_t target_vocab);

/// A model of config `m` with its attention `mode`: "hard" in model.hard_in's places (soft
/// elsewhere), "soft" everywhere. The builders above apply model.attention this way.
void use_attention(torch::nn::Module& model, const ModelConfig& m, AttentionMode mode);

/// The inverse temperature `beta` for the attention in model.hard_in's places, those a beta
/// schedule sharpens (the others keep model.beta).
void use_beta(torch::nn::Module& model, const ModelConfig& m, double beta);

/// Parameters that train (the sinusoid table does not).
int64_t count_trainable(torch::nn::Module& model);

}  // namespace attn
