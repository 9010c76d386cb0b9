// attn show through the binary: the page holds the model's own attention weights, compared with
// what each MultiHeadAttention returns with need_weights when the test calls it layer by layer
// (soft and hard attention); its prediction is predict's; inputs come as text, file or stdin.
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cairo.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "attn/infer/checkpoint_model.h"
#include "attn/infer/search.h"
#include "attn/io/checkpoint_reader.h"
#include "cli_support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_show {

using namespace attn;
using namespace attn::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Two encoder layers of two heads and attention pooling: every kind of map a set classifier has.
const char* kConfig = R"({
  "data": {"kind": "retrieval", "set_size": 6, "symbols": 8, "train_size": 600, "valid_size": 100, "test_size": 100},
  "model": {"d_model": 16, "heads": 2, "ffn_hidden": 32, "layers": 2, "pooling": "attention"},
  "train": {"epochs": 1, "batch_size": 32}, "threads": 1, "seed": 4})";

std::string slurp_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The JSON the page embeds (cli/attention_page.h).
json page_data(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"attn-data\">";
  const auto from = html.find(open);
  REQUIRE(from != std::string::npos);
  const auto to = html.find("</script>", from);
  REQUIRE(to != std::string::npos);
  return json::parse(html.substr(from + open.size(), to - from - open.size()));
}

// Each encoder layer's MultiHeadAttention called with need_weights on what the layer feeds it,
// layer by layer: its weights (H, T, T) appended to `maps`. ids (1, T) -> the encoder's output (1, T, D).
torch::Tensor reference_encoder_maps(EncoderImpl& encoder, const torch::Tensor& ids, const torch::Tensor& padding,
                                     std::vector<torch::Tensor>& maps) {
  auto x = encoder.embedding(ids);                                           // (1, T, D)
  for (const auto& item : *encoder.layers) {
    auto* layer = item->as<EncoderLayerImpl>();
    const auto y = layer->options.norm() == NormPlacement::Pre ? layer->layernorm1(x) : x;
    maps.push_back(layer->mha->forward(y, y, y, padding, false, /*need_weights=*/true).weights[0]);  // (H, T, T)
    x = layer->forward(x, padding);
  }
  return encoder.final_norm.is_empty() ? x : encoder.final_norm(x);
}

// The classifier's reference maps: the encoder's, then the pooling query over its output.
// ids (1, T) -> (H, Tq, T) each.
std::vector<torch::Tensor> reference_maps(CheckpointModel& m, const torch::Tensor& ids) {
  torch::NoGradGuard no_grad;
  const auto padding = m.header.config.data.mask_padding ? ids.eq(Vocab::kPad) : torch::Tensor();  // (1, T)
  std::vector<torch::Tensor> maps;
  const auto x = reference_encoder_maps(*m.model->encoder, ids, padding, maps);  // (1, T, D)
  const auto q = m.model->pool_query.expand({1, 1, x.size(2)});              // (1, 1, D)
  maps.push_back(m.model->pool_attention->forward(q, x, x, padding, false, true).weights[0]);  // (H, 1, T)
  return maps;
}

// A PNG's (width, height) as cairo reads it back; (0, 0) when it does not decode.
std::pair<int, int> png_size(const std::string& path) {
  cairo_surface_t* png = cairo_image_surface_create_from_png(path.c_str());
  std::pair<int, int> size{0, 0};
  if (cairo_surface_status(png) == CAIRO_STATUS_SUCCESS)
    size = {cairo_image_surface_get_width(png), cairo_image_surface_get_height(png)};
  cairo_surface_destroy(png);
  return size;
}

torch::Tensor as_tensor(const json& weights) {  // [H][Tq][Tk] -> (H, Tq, Tk) float64
  std::vector<double> flat;
  for (const auto& head : weights)
    for (const auto& row : head)
      for (double w : row) flat.push_back(w);
  const auto H = static_cast<int64_t>(weights.size()), Tq = static_cast<int64_t>(weights[0].size());
  return torch::tensor(flat, torch::kFloat64).view({H, Tq, -1});
}

void check_maps_are_the_models(Sandbox& s, const json& doc, const std::string& attention) {
  CheckpointReader reader(s.path("run/checkpoints/best.pt"));
  auto m = load_checkpoint_model(reader, "cpu");
  set_attention_mode(*m.model, parse<AttentionMode>(attention));
  REQUIRE(doc["attention"] == attention);
  for (const auto& input : doc["inputs"]) {
    INFO(input["text"].get<std::string>() << ", " << attention);
    std::vector<int64_t> ids;
    for (const auto& t : input["tokens"]) ids.push_back(m.vocab.id(t.get<std::string>()));
    const auto want = reference_maps(m, torch::tensor(ids).view({1, -1}));
    const auto& maps = input["maps"];
    REQUIRE(maps.size() == 3);
    CHECK(maps[0]["name"] == "encoder.layers.0.mha");
    CHECK(maps[1]["name"] == "encoder.layers.1.mha");
    CHECK(maps[2]["name"] == "pool_attention");
    for (size_t i = 0; i < maps.size(); ++i) {
      INFO(maps[i]["name"]);
      const auto got = as_tensor(maps[i]["weights"]);
      REQUIRE(got.sizes() == want[i].sizes());
      CHECK((got - want[i].to(torch::kFloat64)).abs().max().item<double>() < 1e-6);
      CHECK(maps[i]["keys"] == input["tokens"]);
      CHECK(maps[i]["queries"].size() == static_cast<size_t>(got.size(1)));
      CHECK(((got.sum(-1) - 1).abs() < 1e-5).all().item<bool>());      // each query's weights sum to 1
      if (attention == "hard")                                           // one key per query
        CHECK((got.gt(0.5).sum(-1) == 1).all().item<bool>());
    }
  }
}

// An encoder-decoder of two layers each on the built-in reverse task: every kind of map a
// seq2seq model has.
const char* kSeq2SeqConfig = R"({
  "task": "seq2seq",
  "data": {"kind": "reverse", "set_size": 5, "symbols": 6, "train_size": 600, "valid_size": 50, "test_size": 50,
           "max_len": 10, "max_target_len": 11},
  "model": {"d_model": 16, "heads": 2, "ffn_hidden": 32, "layers": 2, "positions": "sinusoidal"},
  "train": {"epochs": 1, "batch_size": 32}, "decode": {"beam_size": 2}, "threads": 1, "seed": 5})";

// The seq2seq reference: the encoder's maps, then each decoder layer's
// causal self-attention and cross-attention called with need_weights on what the layer feeds them.
std::vector<torch::Tensor> reference_seq2seq_maps(CheckpointSeq2Seq& m, const torch::Tensor& src,
                                                  const torch::Tensor& tgt_in) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> maps;
  const auto memory = reference_encoder_maps(*m.model->encoder, src, {}, maps);  // (1, S, D)
  auto& decoder = *m.model->decoder;
  auto y = decoder.embedding(tgt_in);                                        // (1, T, D)
  for (const auto& item : *decoder.layers) {
    auto* layer = item->as<DecoderLayerImpl>();
    const bool pre = layer->options.norm() == NormPlacement::Pre;
    const auto q1 = pre ? layer->layernorm1(y) : y;
    const auto self = layer->self_mha->forward(q1, q1, q1, {}, /*causal=*/true, true);
    maps.push_back(self.weights[0]);                                         // (H, T, T)
    const auto h1 = pre ? y + self.output : layer->layernorm1(y + self.output);
    const auto q2 = pre ? layer->layernorm2(h1) : h1;
    maps.push_back(layer->cross_mha->forward(q2, memory, memory, {}, false, true).weights[0]);  // (H, T, S)
    y = layer->forward(y, memory);
  }
  return maps;
}

}  // namespace

TEST_CASE("attn show on a seq2seq checkpoint: encoder, causal decoder and cross-attention maps of its translation",
          "[cli][show]") {
  Sandbox s;
  std::ofstream(s.path("reverse.json")) << kSeq2SeqConfig;
  REQUIRE(s.attn("train reverse.json --out run").rc == 0);
  const std::string text = "s3 s1 s4 s0 s5";
  const auto r = s.attn("show run '" + text + "' --beam 2");
  INFO(r.err);
  REQUIRE(r.rc == 0);
  const auto doc = page_data(slurp_file(s.path("run/show/attention.html")));
  REQUIRE(doc["task"] == "seq2seq");
  const auto& input = doc["inputs"].at(0);

  CheckpointReader reader(s.path("run/checkpoints/best.pt"));
  auto m = load_seq2seq_checkpoint(reader, "cpu");
  const auto source = m.source_codec->encode(text);
  const auto src = torch::tensor(source).view({1, -1});                      // (1, S)
  const auto hyp = translate(m.model, src, {}, search_options(m.header.config, 2)).at(0);
  // The translation shown is predict's, and its tokens label the decoder's rows.
  CHECK(input["output"] == m.target_codec->decode(hyp.tokens));
  CHECK(input["output"].get<std::string>() + "\n" == s.attn("predict run --beam 2", text + "\n").out);
  std::vector<std::string> source_tokens, predicts;
  for (auto id : source) source_tokens.push_back(m.source_codec->piece(id));
  for (auto id : hyp.tokens) predicts.push_back(m.target_codec->piece(id));
  predicts.push_back("</s>");
  CHECK(input["tokens"] == source_tokens);
  CHECK(input["output_tokens"] == predicts);

  std::vector<int64_t> target_in = {TextCodec::kBos};
  target_in.insert(target_in.end(), hyp.tokens.begin(), hyp.tokens.end());
  const auto want = reference_seq2seq_maps(m, src, torch::tensor(target_in).view({1, -1}));
  const std::vector<std::string> names = {"encoder.layers.0.mha",       "encoder.layers.1.mha",
                                          "decoder.layers.0.self_mha",  "decoder.layers.0.cross_mha",
                                          "decoder.layers.1.self_mha",  "decoder.layers.1.cross_mha"};
  const auto& maps = input["maps"];
  REQUIRE(maps.size() == names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    INFO(names[i]);
    CHECK(maps[i]["name"] == names[i]);
    const auto got = as_tensor(maps[i]["weights"]);
    REQUIRE(got.sizes() == want[i].sizes());
    CHECK((got - want[i].to(torch::kFloat64)).abs().max().item<double>() < 1e-6);
    CHECK(((got.sum(-1) - 1).abs() < 1e-5).all().item<bool>());
    if (names[i].find("self_mha") != std::string::npos)                   // causal: nothing above the diagonal
      CHECK(got.triu(1).abs().max().item<double>() == 0.0);
    CHECK(maps[i]["queries"] == (i < 2 ? json(source_tokens) : json(predicts)));
  }
  CHECK(maps[3]["keys"] == source_tokens);
  CHECK(maps[2]["keys"][0] == "<s>");

  // predict --print-alignment: fairseq's S-T pairs, the source position each target token's row of
  // the last cross-attention, averaged over heads, weighs most (the page's map, read back).
  const auto mean = as_tensor(maps[5]["weights"]).mean(0);                  // (T, S)
  std::string pairs;
  for (size_t j = 0; j < hyp.tokens.size(); ++j)
    pairs += (j ? " " : "") + std::to_string(mean[static_cast<int64_t>(j)].argmax().item<int64_t>()) + "-" +
             std::to_string(j);
  const auto aligned = s.attn("predict run --beam 2 --print-alignment", text + "\n" + text + "\n");
  REQUIRE(aligned.rc == 0);
  const std::string line = input["output"].get<std::string>() + "\t" + pairs + "\n";
  CHECK(aligned.out == line + line);
  const auto as_json = json::parse(s.attn("predict run --beam 2 --print-alignment --json", text + "\n").out);
  CHECK(as_json["alignment"] == pairs);

  // As pictures: one per map, then the alignment, the head-averaged last cross-attention.
  const auto pictures = s.attn("show run '" + text + "' --beam 2 --format png --out pics");
  REQUIRE(pictures.rc == 0);
  for (const char* file : {"01-encoder-layer-1-self-attention.png", "04-decoder-layer-1-cross-attention.png",
                           "05-decoder-layer-2-causal-self-attention.png", "alignment.png"}) {
    INFO(file);
    CHECK(png_size(s.path(std::string("pics/input_1/") + file)).first > 0);
  }
  CHECK(std::distance(fs::directory_iterator(s.path("pics/input_1")), fs::directory_iterator()) == 7);
  CHECK(png_size(s.path("run/curves.png")).first > 0);  // loss, accuracy, BLEU, lr of a seq2seq run
  // attn report: sample translations with their sentence BLEU, the explorer on three test inputs.
  const auto report = s.attn("report run --samples 4");
  REQUIRE(report.rc == 0);
  const std::string report_page = slurp_file(s.path("run/report.html"));
  CHECK_THAT(report_page, Catch::Contains("Sample translations (the first of the test split, beam 2)"));
  CHECK(page_data(report_page)["inputs"].size() == 3);
  CHECK(report_page.find("Confusion matrix") == std::string::npos);
  // While training: the last layer's maps and the alignment of a validation input's translation.
  for (const auto& step : fs::directory_iterator(s.path("run/attention")))
    for (const char* file :
         {"alignment.png", "05-decoder-layer-2-causal-self-attention.png", "06-decoder-layer-2-cross-attention.png"}) {
      INFO(step.path() << " " << file);
      CHECK(png_size((step.path() / "input_1" / file).string()).first > 0);
    }
}

TEST_CASE("attn show: the page holds every layer's and the pooling's attention as the model computes it",
          "[cli][show]") {
  Sandbox s;
  std::ofstream(s.path("show.json")) << kConfig;
  REQUIRE(s.attn("train show.json --out run").rc == 0);
  const std::string text = "k1:v2 k3:v4 ?k3 k5:v0 k7:v7 k2:v6";
  for (const std::string attention : {"soft", "hard"}) {
    const auto r = s.attn("show run '" + text + "' --out shown-" + attention + " --attention " + attention);
    INFO(r.err);
    REQUIRE(r.rc == 0);
    const std::string page = s.path("shown-" + attention + "/attention.html");
    CHECK_THAT(r.out, Catch::Contains("attention.html"));
    const auto doc = page_data(slurp_file(page));
    REQUIRE(doc["inputs"].size() == 1);
    CHECK(doc["inputs"][0]["text"] == text);
    check_maps_are_the_models(s, doc, attention);
    // The prediction is predict's: the same label, and its probability to 1e-5 (the recorded pass
    // runs the reference attention, which keeps the weights, where predict runs the fused kernel).
    const auto p = s.attn("predict run --attention " + attention, text + "\n");
    REQUIRE(p.rc == 0);
    CHECK(p.out.substr(0, p.out.find('\t')) == doc["inputs"][0]["output"].get<std::string>());
    const auto json_line = json::parse(s.attn("predict run --json --attention " + attention, text + "\n").out);
    CHECK(std::abs(json_line["probs"][doc["inputs"][0]["output"].get<std::string>()].get<double>() -
                   doc["inputs"][0]["score"].get<double>()) < 1e-5);
  }
}

TEST_CASE("attn show reads inputs from a file or stdin, keeps the page's script whole, and refuses what it cannot show",
          "[cli][show][errors]") {
  Sandbox s;
  std::ofstream(s.path("show.json")) << kConfig;
  REQUIRE(s.attn("train show.json --out run").rc == 0);
  // A file of three texts, one of them with markup that would end a <script> element.
  std::ofstream(s.path("inputs.txt")) << "k1:v2 ?k1\n\nk3:v4 </script><b>x ?k3\nk5:v5 ?k5\n";
  auto r = s.attn("show run inputs.txt --limit 2");
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK_THAT(r.err, Catch::Contains("the first 2 of 3 inputs"));
  auto doc = page_data(slurp_file(s.path("run/show/attention.html")));
  REQUIRE(doc["inputs"].size() == 2);
  CHECK(doc["inputs"][1]["text"] == "k3:v4 </script><b>x ?k3");
  CHECK(doc["inputs"][1]["tokens"][1] == "<unk>");                     // not in the vocabulary
  // stdin, and the maps alone as JSON.
  r = s.attn("show run - --format json --out maps", "k1:v2 ?k1\n");
  REQUIRE(r.rc == 0);
  doc = json::parse(slurp_file(s.path("maps/attention.json")));
  CHECK(doc["inputs"].size() == 1);
  CHECK(doc["inputs"][0]["maps"].size() == 3);
  // Nothing to show; a bad option: one message, exit 2.
  std::ofstream(s.path("empty.txt")) << "\n\n";
  r = s.attn("show run empty.txt");
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("empty.txt: no input to show"));
  CHECK(s.attn("show run 'k1:v2' --format gif").rc == 2);
  const auto align = s.attn("predict run --print-alignment", "k1:v2 ?k1\n");
  CHECK(align.rc == 2);
  CHECK_THAT(align.err, Catch::Contains("--print-alignment is for seq2seq checkpoints"));
  CHECK(s.attn("show run").rc == 2);
}

TEST_CASE("attn show as PNG and SVG, a layer or a head at a time, the pictures a run draws as it trains, and attn "
          "plot: the curves of one run or several",
          "[cli][show][plot]") {
  Sandbox s;
  std::ofstream(s.path("show.json")) << kConfig;
  REQUIRE(s.attn("train show.json --out run").rc == 0);
  CHECK(png_size(s.path("run/curves.png")).first > 0);  // every run draws its curves at the end
  // train.plot_examples (2 by default): at each validation, the last layer's maps of two
  // validation inputs.
  std::vector<fs::path> steps;
  for (const auto& e : fs::directory_iterator(s.path("run/attention"))) steps.push_back(e.path());
  REQUIRE(steps.size() == 1);  // one epoch, one validation
  CHECK(steps[0].filename().string().rfind("step_", 0) == 0);
  for (const char* input : {"input_1", "input_2"}) {
    INFO(input);
    CHECK(png_size((steps[0] / input / "02-encoder-layer-2-self-attention.png").string()).first > 0);
    CHECK(fs::exists(steps[0] / input / "03-attention-pooling.png"));
    CHECK_FALSE(fs::exists(steps[0] / input / "01-encoder-layer-1-self-attention.png"));
  }
  const std::string text = "k1:v2 k3:v4 ?k3";
  auto r = s.attn("show run '" + text + "' --format png --out pics");
  INFO(r.err);
  REQUIRE(r.rc == 0);
  const std::vector<std::string> files = {"01-encoder-layer-1-self-attention.png",
                                          "02-encoder-layer-2-self-attention.png", "03-attention-pooling.png"};
  for (const auto& file : files) {
    INFO(file);
    CHECK_THAT(r.out, Catch::Contains(file));
    CHECK(png_size(s.path("pics/input_1/" + file)).first > 0);
  }
  // --head: one panel where there were two; --layer keeps that layer and the pooling.
  REQUIRE(s.attn("show run '" + text + "' --format png --head 2 --layer 2 --out one").rc == 0);
  CHECK_FALSE(fs::exists(s.path("one/input_1/" + files[0])));
  const auto both = png_size(s.path("pics/input_1/" + files[1])), one = png_size(s.path("one/input_1/" + files[1]));
  CHECK(one.first > 0);
  CHECK(one.first < both.first);
  CHECK(fs::exists(s.path("one/input_1/" + files[2])));
  r = s.attn("show run '" + text + "' --format png --layer 3");
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("--layer 3: the model has layers 1..2"));
  CHECK(s.attn("show run '" + text + "' --head 1").rc == 2);  // --head is for pictures
  // SVG: an XML document per map (checked with Python's parser where there is one).
  REQUIRE(s.attn("show run '" + text + "' --format svg --out svgs").rc == 0);
  const std::string svg = s.path("svgs/input_1/01-encoder-layer-1-self-attention.svg");
  CHECK(slurp_file(svg).find("</svg>") != std::string::npos);
  if (std::system("command -v python3 >/dev/null 2>&1") == 0)
    CHECK(std::system(("python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' " + svg).c_str()) == 0);

  // attn plot: one run into RUN/curves.png; several overlaid into the file named.
  fs::remove(s.path("run/curves.png"));
  REQUIRE(s.attn("plot run").rc == 0);
  CHECK(png_size(s.path("run/curves.png")).first > 0);
  REQUIRE(s.attn("train show.json --out run2 --set model.heads=4 --set train.plot_examples=0").rc == 0);
  CHECK_FALSE(fs::exists(s.path("run2/attention")));
  r = s.attn("plot run run2 --metric loss,accuracy,lr,bleu --out both.png");
  REQUIRE(r.rc == 0);
  CHECK_THAT(r.err, Catch::Contains("no train or valid record holds 'bleu'"));
  CHECK(png_size(s.path("both.png")).second > png_size(s.path("run/curves.png")).second);  // a panel more
  CHECK(s.attn("plot run run2").rc == 2);  // where to? --out
  CHECK(s.attn("plot run --out curves.gif").rc == 2);
  CHECK(s.attn("plot nowhere").rc == 2);
}

namespace {

// Headless Chromium on a page from a file URL, every host name unresolvable (the page must need
// no network); `extra` adds --dump-dom (stdout: the DOM after the scripts ran) or --screenshot.
Run chromium(const Sandbox& s, const std::string& url, const std::string& extra) {
  const std::string cmd = "chromium --headless --no-sandbox --disable-gpu --disable-background-networking "
                          "--disable-component-update --disable-sync --no-first-run --disable-quic "
                          "--host-resolver-rules='MAP * ~NOTFOUND' --user-data-dir=" + s.path("chromium-profile") +
                          " --virtual-time-budget=5000 " + extra + " '" + url + "' > " + s.path("dom.html") +
                          " 2> " + s.path("chromium.err");
  const int rc = std::system(("timeout -k 5 60 " + cmd).c_str());
  return {rc, slurp_file(s.path("dom.html")), slurp_file(s.path("chromium.err"))};
}

}  // namespace

TEST_CASE("attn report: results, curves, confusion matrix, examples and an attention explorer in one page, and in a "
          "real browser the explorer draws each head differently and shades the keys of a token under the pointer, "
          "without a script error",
          "[cli][show][report]") {
  Sandbox s;
  std::ofstream(s.path("show.json")) << kConfig;
  REQUIRE(s.attn("train show.json --out run --set train.plot_examples=0").rc == 0);
  auto r = s.attn("report run --samples 5 --inputs 2");
  INFO(r.err);
  REQUIRE(r.rc == 0);
  const std::string page = slurp_file(s.path("run/report.html"));
  // The confusion matrix is eval's on the same split.
  const auto eval = json::parse(s.attn("eval run --json").out);
  CHECK_THAT(page, Catch::Contains("Confusion matrix (test split, " + std::to_string(eval["count"].get<int>()) +
                                   " examples)"));
  CHECK_THAT(page, Catch::Contains("<h2 id=\"curves\">Training curves</h2>"));
  CHECK(page.find("src=\"http") == std::string::npos);  // everything inline
  const auto doc = page_data(page);
  REQUIRE(doc["inputs"].size() == 2);
  check_maps_are_the_models(s, doc, "soft");
  CHECK(s.attn("report nowhere").rc == 2);

  const char* required = std::getenv("ATTN_REQUIRE_BROWSER");
  if (std::system("command -v chromium >/dev/null 2>&1") != 0) {
    if (required && std::string(required) == "1") FAIL("chromium is missing, and ATTN_REQUIRE_BROWSER=1 says it must be there");
    WARN("chromium is not installed: the browser half of this test did not run (apt-get install chromium)");
    return;
  }
  const std::string url = "file://" + s.path("run/report.html");
  const auto dom = chromium(s, url + "#selftest", "--dump-dom");
  INFO(dom.err);
  REQUIRE(dom.rc == 0);
  CHECK(dom.out.find("<pre id=\"script-error\">") == std::string::npos);
  const auto at = dom.out.find("<pre id=\"selftest\">");
  REQUIRE(at != std::string::npos);
  const auto end = dom.out.find("</pre>", at);
  const auto test = json::parse(dom.out.substr(at + 19, end - at - 19));
  CHECK(test["selectors"]["map"] == true);
  CHECK(test["selectors"]["head"] == true);
  const auto heads = test["heads"].get<std::vector<int64_t>>();
  REQUIRE(heads.size() == 3);  // two heads and their mean
  CHECK(heads[0] != heads[1]);
  CHECK(heads[0] != heads[2]);
  // Pointing at a query token shades every key by its weight (bertviz's head view).
  CHECK(test["shaded"] == doc["inputs"][0]["tokens"].size());
  // A screenshot that is not blank: many colours (the curves, the heatmaps, the text).
  REQUIRE(chromium(s, url, "--window-size=1000,1600 --screenshot=" + s.path("report.png")).rc == 0);
  cairo_surface_t* png = cairo_image_surface_create_from_png(s.path("report.png").c_str());
  REQUIRE(cairo_surface_status(png) == CAIRO_STATUS_SUCCESS);
  std::set<uint32_t> colours;
  const int w = cairo_image_surface_get_width(png), h = cairo_image_surface_get_height(png);
  const int stride = cairo_image_surface_get_stride(png);
  for (int y = 0; y < h; y += 3)
    for (int x = 0; x < w; x += 3)
      colours.insert(reinterpret_cast<const uint32_t*>(cairo_image_surface_get_data(png) + y * stride)[x] & 0xFFFFFF);
  cairo_surface_destroy(png);
  CHECK(colours.size() > 50);
}

}  // namespace test_show
