// Data-parallel training over processes, on the engine torch.distributed itself uses: LibTorch's
// c10d, with a TCPStore for the rendezvous and ProcessGroupGloo for the collectives (CPU).
//
// Processes are started as torchrun starts them: each reads RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT from its environment. Rank 0 serves the
// TCPStore on MASTER_ADDR:MASTER_PORT; the others connect to it. Without these variables (or
// with WORLD_SIZE=1) a run is one process, as always.
//
// This header does not include the c10d or Gloo headers: only distributed.cpp pays for them.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "attn/core/errors.h"

namespace attn {

/// Where this process stands in a job, from the torchrun environment variables, and
/// ATTN_DIST_TIMEOUT (seconds; `attn launch --timeout`).
struct DistEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;        ///< the GPU index with device "cuda"
  int local_world_size = 1;  ///< processes on this host: "threads": 0 shares the cores among them
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  int timeout_s = 300;       ///< ATTN_DIST_TIMEOUT: rendezvous, and the longest wait on another rank
  bool distributed() const { return world_size > 1; }
};

/// Reads the variables from the environment; throws DistEnvError naming the variable.
DistEnv read_dist_env();

/// The slice of a global batch that `rank` of `world_size` computes: contiguous, sizes differing
/// by at most one (empty when the batch has fewer examples than ranks).
std::vector<size_t> shard_of(const std::vector<size_t>& batch, int rank, int world_size);

/// One process's membership of the job. Every collective names what it is for (`what`), so that
/// a failure says where the job stopped; a rank that died makes the others' next collective fail
/// at once, one that hangs makes it fail after `timeout`.
class Communicator {
 public:
  /// Rendezvous: rank 0 serves the store, the others connect, all within `timeout`. Then every
  /// rank checks that all agree on WORLD_SIZE and on `fingerprint` (the config's hash).
  Communicator(const DistEnv& env, std::chrono::milliseconds timeout, const std::string& fingerprint);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const;
  int world_size() const;

  /// Sums the tensors of all ranks, in place. Tensors are flattened into buckets of at most
  /// `bucket_bytes`, one collective per bucket.
  void all_reduce_sum(const std::vector<torch::Tensor>& tensors, const std::string& what);
  /// Rank 0's values into every rank's tensors, in place (bucketed as above).
  void broadcast(const std::vector<torch::Tensor>& tensors, const std::string& what);
  /// Rank 0's bytes, on every rank.
  std::string broadcast_bytes(const std::string& bytes, const std::string& what);
  /// Every rank says whether its part went well; all learn which ranks failed (ascending).
  std::vector<int> failed_ranks(bool ok, const std::string& what);

  /// Seconds spent in collectives so far (waiting for other ranks included).
  double seconds() const;

  static constexpr int64_t bucket_bytes = 25 << 20;  // as DistributedDataParallel

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace attn
