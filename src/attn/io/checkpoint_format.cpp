#include "attn/io/checkpoint_format.h"

#include <zlib.h>

#include <cstdio>
#include <cstring>

namespace attn::checkpoint_format {

nlohmann::json header_json(const CheckpointHeader& h) {
  const auto& s = h.state;
  return {{"format", "attn-checkpoint"},
          {"format_version", h.format},
          {"attn_version", h.attn_version},
          {"torch_version", h.torch_version},
          {"config", to_json(h.config)},
          {"vocab", h.vocab},
          {"labels", h.labels},
          {"codecs", h.codecs},
          {"state",
           {{"step", s.step}, {"epoch", s.epoch}, {"batch", s.batch}, {"best", s.best},
            {"best_step", s.best_step}, {"stale", s.stale}, {"skipped", s.skipped},
            {"world_size", s.world_size}, {"beta", s.beta}}},
          {"metrics", h.metrics}};
}

CheckpointHeader parse_header(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object() || j.value("format", "") != "attn-checkpoint")
    throw CheckpointError(path + ": not an attn checkpoint");
  CheckpointHeader h;
  h.format = j.at("format_version").get<int>();
  if (h.format > kCheckpointFormat)
    throw CheckpointError(path + ": written by a newer attn (checkpoint format " +
                          std::to_string(h.format) + ", this attn reads up to " +
                          std::to_string(kCheckpointFormat) + "); upgrade attn to read it");
  h.attn_version = j.at("attn_version").get<std::string>();
  h.torch_version = j.at("torch_version").get<std::string>();
  h.config = config_from_json(ConfigJson(j.at("config")));
  h.vocab = j.at("vocab").get<std::vector<std::string>>();
  h.labels = j.at("labels").get<std::vector<std::string>>();
  if (j.contains("codecs")) h.codecs = j.at("codecs");
  const auto& s = j.at("state");
  h.state = {s.at("step").get<int64_t>(), s.at("epoch").get<int64_t>(), s.at("batch").get<int64_t>(),
             s.at("best").get<double>(),  s.at("best_step").get<int64_t>(), s.at("stale").get<int64_t>(),
             s.value("skipped", int64_t(0)), s.value("world_size", int64_t(1)), s.value("beta", 0.0)};
  h.metrics = j.at("metrics");
  return h;
}

uint32_t crc32_of(const void* data, size_t size) {
  return static_cast<uint32_t>(::crc32_z(0L, static_cast<const Bytef*>(data), size));
}

std::string hex32(uint32_t x) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", x);
  return buf;
}

constexpr char kTrailerMagic[8] = {'A', 'T', 'T', 'N', '-', 'C', 'R', 'C'};

bool has_trailer(const std::string& bytes) {
  return bytes.size() >= kTrailerSize &&
         std::memcmp(bytes.data() + bytes.size() - kTrailerSize, kTrailerMagic, sizeof kTrailerMagic) == 0;
}

Trailer read_trailer(const std::string& bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + bytes.size() - kTrailerSize + 8);
  Trailer t;
  for (int i = 0; i < 8; ++i) t.size |= uint64_t(p[i]) << (8 * i);
  for (int i = 0; i < 4; ++i) t.crc |= uint32_t(p[8 + i]) << (8 * i);
  return t;
}

std::string with_checksum(std::string bytes) {
  const uint64_t size = bytes.size();
  const uint32_t crc = crc32_of(bytes.data(), bytes.size());
  bytes.append(kTrailerMagic, sizeof kTrailerMagic);
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((size >> (8 * i)) & 0xff));
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return bytes;
}

}  // namespace attn::checkpoint_format
