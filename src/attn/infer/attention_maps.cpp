#include "attn/infer/attention_maps.h"

#include <cmath>

#include "attn/data/batcher.h"
#include "attn/data/classify/classification_data.h"
#include "attn/data/seq2seq/seq2seq_data.h"
#include "attn/model/attention_record.h"

namespace attn {

using nlohmann::json;

namespace {

// The recorded weights of the first (only) input, (H, Tq, Tk) float64 on the CPU, by module.
std::vector<std::pair<std::string, torch::Tensor>> first_input(const AttentionRecord& record,
                                                               const torch::nn::Module& model) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (auto& map : record.named(model)) out.emplace_back(map.name, map.weights[0].to(torch::kCPU, torch::kFloat64));
  return out;
}

// The source src (1, S) and the translation `tokens` through the model once (teacher forcing:
// <s> y1 .. yn in), its attention recorded. -> the maps of that pass by module, and what the decoder read.
std::pair<std::vector<std::pair<std::string, torch::Tensor>>, std::vector<int64_t>> teacher_forced_maps(
    Seq2Seq& model, const torch::Tensor& src, const torch::Tensor& src_padding, const std::vector<int64_t>& tokens) {
  std::vector<int64_t> target_in = {TextCodec::kBos};                      // <s> y1 .. yn
  target_in.insert(target_in.end(), tokens.begin(), tokens.end());
  torch::NoGradGuard no_grad;
  AttentionRecord record;
  model->forward(src, torch::tensor(target_in).view({1, -1}).to(src.device()), src_padding);  // (1, T, V)
  return {first_input(record, *model), target_in};
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

ShownInput show_classifier_example(SetClassifier& model, const Vocab& vocab, const std::vector<std::string>& labels,
                                   const DataConfig& data, const std::vector<int64_t>& ids) {
  const std::vector<EncodedExample> one = {{ids, 0}};
  const auto device = model->parameters().front().device();
  const auto batch = make_batch(one, {0}, data, device);                   // ids (1, T)
  torch::NoGradGuard no_grad;
  AttentionRecord record;
  const auto probs = torch::softmax(model->forward(batch.ids, batch.padding), 1)[0].cpu();  // (C)
  ShownInput shown;
  const auto read = batch.ids[0].cpu();
  for (int64_t t = 0; t < read.size(0); ++t) shown.tokens.push_back(vocab.token(read[t].item<int64_t>()));
  const auto best = probs.argmax().item<int64_t>();
  shown.output = labels.at(static_cast<size_t>(best));
  shown.score = probs[best].item<double>();
  for (auto& [name, w] : first_input(record, *model)) {
    // Self-attention reads the set against itself; the pooling query is one learnt vector.
    auto queries = w.size(1) == 1 ? std::vector<std::string>{"query"} : shown.tokens;
    shown.maps.push_back({name, std::move(queries), shown.tokens, w});
  }
  return shown;
}

ShownInput show_classifier_input(CheckpointModel& m, const std::string& text) {
  const auto& data = m.header.config.data;
  auto shown = show_classifier_example(m.model, m.vocab, m.header.labels, data,
                                       encode_text(text, make_tokenizer(data), m.vocab, eval_length(data)));
  shown.text = text;
  return shown;
}

ShownInput show_seq2seq_example(Seq2Seq& model, const TextCodec& source_codec, const TextCodec& target_codec,
                                const std::vector<int64_t>& source, const SearchOptions& search) {
  ShownInput shown;
  shown.text = source_codec.decode(source);
  const std::vector<EncodedPair> one = {{source, {}}};
  const auto batch = make_pair_batch(one, {0}, model->parameters().front().device());  // source (1, S)
  torch::NoGradGuard no_grad;
  const auto hyp = translate(model, batch.source, batch.source_padding, search).at(0);
  shown.output = target_codec.decode(hyp.tokens);
  shown.score = hyp.score;
  const auto [maps, target_in] = teacher_forced_maps(model, batch.source, batch.source_padding, hyp.tokens);

  for (int64_t t = 0; t < batch.source.size(1); ++t)
    shown.tokens.push_back(source_codec.piece(batch.source[0][t].item<int64_t>()));
  std::vector<std::string> read;                                           // what the decoder reads
  for (auto id : target_in) read.push_back(target_codec.piece(id));
  for (auto id : hyp.tokens) shown.output_tokens.push_back(target_codec.piece(id));
  shown.output_tokens.push_back("</s>");                                   // what each position predicts
  for (const auto& [name, w] : maps) {
    if (ends_with(name, ".cross_mha")) shown.maps.push_back({name, shown.output_tokens, shown.tokens, w});
    else if (ends_with(name, ".self_mha")) shown.maps.push_back({name, shown.output_tokens, read, w});
    else shown.maps.push_back({name, shown.tokens, shown.tokens, w});
  }
  return shown;
}

ShownInput show_seq2seq_input(CheckpointSeq2Seq& m, const std::string& text, const SearchOptions& search) {
  auto shown = show_seq2seq_example(m.model, *m.source_codec, *m.target_codec, m.source_codec->encode(text), search);
  shown.text = text;
  return shown;
}

std::string alignment_pairs(Seq2Seq& model, const torch::Tensor& src, const std::vector<int64_t>& tokens) {
  if (tokens.empty()) return "";
  torch::Tensor last;
  for (const auto& [name, w] : teacher_forced_maps(model, src, {}, tokens).first)
    if (ends_with(name, ".cross_mha")) last = w;                            // (H, T, S), the last layer's
  if (!last.defined()) return "";
  const auto source_of = last.mean(0).argmax(1);                            // (T): row j predicts y_{j+1}
  std::string out;
  for (size_t j = 0; j < tokens.size(); ++j)
    out += (j ? " " : "") + std::to_string(source_of[static_cast<int64_t>(j)].item<int64_t>()) + "-" +
           std::to_string(j);
  return out;
}

int layer_of_map(const std::string& name) {
  for (const std::string side : {"encoder.layers.", "decoder.layers."}) {
    if (name.rfind(side, 0) != 0) continue;
    const auto rest = name.substr(side.size());
    const auto dot = rest.find('.');
    if (dot == 0 || dot == std::string::npos || rest.find_first_not_of("0123456789") != dot) return 0;
    return static_cast<int>(std::stoll(rest.substr(0, dot))) + 1;
  }
  return 0;
}

std::string describe_map(const std::string& name) {
  if (name == "pool_attention") return "attention pooling: the learnt query over the set";
  const int layer = layer_of_map(name);
  if (!layer) return name;
  const bool decoder = name.rfind("decoder.", 0) == 0;
  const std::string what = ends_with(name, "cross_mha") ? "cross-attention (target over source)"
                           : decoder                    ? "causal self-attention"
                                                        : "self-attention";
  return std::string(decoder ? "decoder" : "encoder") + " layer " + std::to_string(layer) + " " + what;
}

nlohmann::json attention_maps_json(const std::string& checkpoint, const CheckpointHeader& header,
                                   AttentionMode attention, const std::vector<ShownInput>& inputs) {
  json doc = {{"checkpoint", checkpoint}, {"task", to_string(header.config.task)}, {"attention", to_string(attention)},
              {"step", header.state.step}, {"inputs", json::array()}};
  for (const auto& in : inputs) {
    json maps = json::array();
    for (const auto& map : in.maps) {
      const auto w = map.weights.contiguous();                              // (H, Tq, Tk) float64
      const auto H = w.size(0), Tq = w.size(1), Tk = w.size(2);
      const double* p = w.data_ptr<double>();
      json heads = json::array();
      for (int64_t h = 0; h < H; ++h) {
        json rows = json::array();
        for (int64_t q = 0; q < Tq; ++q) {
          json row = json::array();
          for (int64_t k = 0; k < Tk; ++k) row.push_back(std::round(p[(h * Tq + q) * Tk + k] * 1e7) / 1e7);
          rows.push_back(std::move(row));
        }
        heads.push_back(std::move(rows));
      }
      json entry = {{"name", map.name}, {"title", describe_map(map.name)}, {"queries", map.queries},
                    {"keys", map.keys}, {"weights", std::move(heads)}};
      if (const int layer = layer_of_map(map.name)) entry["layer"] = layer;
      maps.push_back(std::move(entry));
    }
    doc["inputs"].push_back({{"text", in.text}, {"tokens", in.tokens}, {"output", in.output},
                             {"output_tokens", in.output_tokens}, {"score", in.score}, {"maps", std::move(maps)}});
  }
  return doc;
}

}  // namespace attn
