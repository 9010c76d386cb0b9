#include "attn/train/distributed.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "attn/core/stopwatch.h"

namespace attn {

namespace {

using Clock = std::chrono::steady_clock;

// The variable's value, or `fallback` when it is not set.
std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

int env_int(const char* name, int fallback, int min_value, const char* allowed) {
  const std::string text = env_or(name, "");
  if (text.empty()) return fallback;
  size_t used = 0;
  long value = 0;
  try {
    value = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || value < min_value || value > 1000000)
    throw DistEnvError(std::string(name) + "=" + text + ": must be " + allowed);
  return static_cast<int>(value);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

// An exception's message, without LibTorch's backtrace.
std::string message_of(const std::exception& e) {
  if (auto* c = dynamic_cast<const c10::Error*>(&e)) return c->what_without_backtrace();
  return e.what();
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

std::vector<uint8_t> bytes_of(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

}  // namespace

DistEnv read_dist_env() {
  DistEnv e;
  const bool any = std::getenv("WORLD_SIZE") || std::getenv("RANK");
  if (!any) return e;
  e.world_size = env_int("WORLD_SIZE", 1, 1, "a positive integer (the number of processes in the job)");
  e.rank = env_int("RANK", 0, 0, "an integer in [0, WORLD_SIZE)");
  if (e.rank >= e.world_size)
    throw DistEnvError("RANK=" + std::to_string(e.rank) + ": must be below WORLD_SIZE=" +
                       std::to_string(e.world_size) + " (ranks count from 0)");
  e.local_rank = env_int("LOCAL_RANK", e.rank, 0, "a non-negative integer (the process's index on its host)");
  e.local_world_size = env_int("LOCAL_WORLD_SIZE", e.world_size, 1, "a positive integer (processes on this host)");
  if (e.local_rank >= e.local_world_size)
    throw DistEnvError("LOCAL_RANK=" + std::to_string(e.local_rank) + ": must be below LOCAL_WORLD_SIZE=" +
                       std::to_string(e.local_world_size));
  e.master_addr = env_or("MASTER_ADDR", "");
  const bool have_port = std::getenv("MASTER_PORT") != nullptr;
  if (e.distributed() && (e.master_addr.empty() || !have_port))
    throw DistEnvError("WORLD_SIZE=" + std::to_string(e.world_size) +
                       " needs MASTER_ADDR and MASTER_PORT: the host and port where rank 0 serves the rendezvous "
                       "(e.g. MASTER_ADDR=127.0.0.1 MASTER_PORT=29500), or start the job with attn launch");
  if (e.master_addr.empty()) e.master_addr = "127.0.0.1";
  e.master_port = env_int("MASTER_PORT", 29500, 1, "a TCP port in [1, 65535]");
  e.timeout_s = env_int("ATTN_DIST_TIMEOUT", 300, 1, "a positive number of seconds");
  if (e.master_port > 65535)
    throw DistEnvError("MASTER_PORT=" + std::to_string(e.master_port) + ": must be in [1, 65535]");
  return e;
}

std::vector<size_t> shard_of(const std::vector<size_t>& batch, int rank, int world_size) {
  const size_t n = batch.size(), w = static_cast<size_t>(world_size), r = static_cast<size_t>(rank);
  return std::vector<size_t>(batch.begin() + static_cast<std::ptrdiff_t>(n * r / w),
                             batch.begin() + static_cast<std::ptrdiff_t>(n * (r + 1) / w));
}

struct Communicator::Impl {
  DistEnv env;
  std::chrono::milliseconds timeout;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
  double seconds = 0;

  std::string where() const {
    return "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size);
  }

  // Runs one collective and waits for it; any failure becomes a DistributedError naming `what`.
  template <class Start>
  void run(const std::string& what, Start&& start) {
    const auto t0 = Clock::now();
    try {
      auto work = start();
      work->wait();
    } catch (const std::exception& e) {
      const auto msg = first_line(message_of(e));
      const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout).count();
      throw DistributedError(where() + ": " + what + " failed (" + msg + "). Another rank stopped: it " +
                             "failed, was killed, or did not answer within (" +
                             std::to_string(secs) + " s, ATTN_DIST_TIMEOUT); this rank stops too");
    }
    seconds += seconds_since(t0);
  }

  // Flattens consecutive tensors of one dtype and device into buckets of at most bucket_bytes,
  // applies `op` to each flat bucket, and copies the results back.
  template <class Op>
  void bucketed(const std::vector<torch::Tensor>& tensors, Op&& op) {
    size_t i = 0;
    while (i < tensors.size()) {
      size_t j = i;
      int64_t bytes = 0;
      while (j < tensors.size() && tensors[j].scalar_type() == tensors[i].scalar_type() &&
             tensors[j].device() == tensors[i].device() &&
             (j == i || bytes + tensors[j].numel() * tensors[j].element_size() <= bucket_bytes)) {
        bytes += tensors[j].numel() * tensors[j].element_size();
        ++j;
      }
      std::vector<torch::Tensor> flat;
      for (size_t k = i; k < j; ++k) flat.push_back(tensors[k].reshape({-1}));
      auto bucket = torch::cat(flat);  // (sum of numels)
      op(bucket);
      int64_t offset = 0;
      for (size_t k = i; k < j; ++k) {
        const auto n = tensors[k].numel();
        tensors[k].copy_(bucket.narrow(0, offset, n).view_as(tensors[k]));
        offset += n;
      }
      i = j;
    }
  }
};

namespace {

// The rendezvous, in three steps; each failure is one DistributedError saying what to check.

std::string whole_seconds(std::chrono::milliseconds t) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(t).count());
}

std::string rendezvous_address(const DistEnv& env) { return env.master_addr + ":" + std::to_string(env.master_port); }

// 1. The store: rank 0 serves it and waits for every rank to connect.
c10::intrusive_ptr<c10d::Store> connect_store(const DistEnv& env, std::chrono::milliseconds timeout) {
  const auto secs = whole_seconds(timeout);
  const auto at = rendezvous_address(env);
  try {
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(env.master_port);
    o.isServer = env.rank == 0;
    o.numWorkers = static_cast<size_t>(env.world_size);
    o.waitWorkers = true;
    o.timeout = timeout;
    return c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
  } catch (const std::exception& e) {
    const auto l = lower(message_of(e));
    const auto msg = first_line(message_of(e));
    if (env.rank == 0 && (l.find("in use") != std::string::npos || l.find("errno: 98") != std::string::npos))
      throw DistributedError("rendezvous: MASTER_PORT " + std::to_string(env.master_port) +
                             " is in use on this host (another job or program holds it); pick a free "
                             "MASTER_PORT for every rank (" + msg + ")");
    if (env.rank == 0)
      throw DistributedError("rendezvous: rank 0 served " + at + " but not all WORLD_SIZE=" +
                             std::to_string(env.world_size) + " ranks joined within " + secs +
                             " s (ATTN_DIST_TIMEOUT). Start every rank, with the same WORLD_SIZE, MASTER_ADDR and "
                             "MASTER_PORT (" +
                             msg + ")");
    throw DistributedError("rendezvous: rank " + std::to_string(env.rank) + " could not reach rank 0 at " + at +
                           " within " + secs + " s (ATTN_DIST_TIMEOUT): rank 0 not started, another "
                           "MASTER_ADDR/MASTER_PORT, or a firewall between the hosts (" + msg + ")");
  }
}

// 2. Every rank runs the same job: same WORLD_SIZE, same config.
void check_same_job(c10d::Store& store, const DistEnv& env, std::chrono::milliseconds timeout,
                    const std::string& fingerprint) {
  const auto secs = whole_seconds(timeout);
  const auto at = rendezvous_address(env);
  const std::string mine = "WORLD_SIZE=" + std::to_string(env.world_size) + ", config " + fingerprint;
  try {
    store.setTimeout(timeout);
    store.set("attn/rank/" + std::to_string(env.rank), bytes_of(mine));
    std::string mismatch;  // the first rank found to run another job
    for (int r = 0; r < env.world_size && mismatch.empty(); ++r) {
      if (r == env.rank) continue;
      const auto got = store.get("attn/rank/" + std::to_string(r));
      const std::string theirs(got.begin(), got.end());
      if (theirs != mine)
        mismatch = "rendezvous: rank " + std::to_string(r) + " runs " + theirs + ", rank " +
                   std::to_string(env.rank) + " runs " + mine +
                   "; every rank needs the same WORLD_SIZE, config file and --set overrides";
    }
    // Rank 0 serves the store: it leaves only once every rank has read what it needs from it,
    // else a rank still reading would see the store vanish and report that instead of the
    // mismatch (seen in CI).
    store.set("attn/compared/" + std::to_string(env.rank), bytes_of("1"));
    if (env.rank == 0) {
      std::vector<std::string> keys;
      for (int r = 1; r < env.world_size; ++r) keys.push_back("attn/compared/" + std::to_string(r));
      store.wait(keys, timeout);
    }
    if (!mismatch.empty()) throw DistributedError(mismatch);
  } catch (const DistributedError&) {
    throw;
  } catch (const std::exception& e) {
    const auto msg = first_line(message_of(e));
    if (env.rank == 0)
      throw DistributedError("rendezvous at " + at + ": not every rank of WORLD_SIZE=" +
                             std::to_string(env.world_size) + " announced itself within " + secs +
                             " s (ATTN_DIST_TIMEOUT); start every rank, and check WORLD_SIZE and RANK of each (" +
                             msg + ")");
    throw DistributedError("rendezvous: rank " + std::to_string(env.rank) +
                           " could not complete the rendezvous with rank 0 at " +
                           at + " within " + secs + " s (ATTN_DIST_TIMEOUT): is rank 0 running there, with the "
                           "same MASTER_ADDR, MASTER_PORT and WORLD_SIZE? (" + msg + ")");
  }
}

// 3. The process group. Its sockets bind the interface GLOO_SOCKET_IFNAME names, as in PyTorch;
// else loopback for a local job, else the address this host's name resolves to.
c10::intrusive_ptr<c10d::ProcessGroupGloo> connect_group(const c10::intrusive_ptr<c10d::Store>& store,
                                                         const DistEnv& env, std::chrono::milliseconds timeout) {
  try {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    const std::string ifname = env_or("GLOO_SOCKET_IFNAME", "");
    if (!ifname.empty()) options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    else if (is_loopback(env.master_addr))
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    options->threads = 2;
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>("attn/gloo", store);
    return c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, env.rank, env.world_size, options);
  } catch (const std::exception& e) {
    const auto msg = first_line(message_of(e));
    throw DistributedError("rendezvous: rank " + std::to_string(env.rank) +
                           " could not connect its Gloo process group to the other ranks (" +
                           msg +
                           "). On several hosts, set GLOO_SOCKET_IFNAME to the network interface they share");
  }
}

}  // namespace

Communicator::Communicator(const DistEnv& env, std::chrono::milliseconds timeout, const std::string& fingerprint)
    : impl_(std::make_unique<Impl>()) {
  impl_->env = env;
  impl_->timeout = timeout;
  impl_->store = connect_store(env, timeout);
  check_same_job(*impl_->store, env, timeout, fingerprint);
  impl_->group = connect_group(impl_->store, env, timeout);
}

Communicator::~Communicator() = default;

int Communicator::rank() const { return impl_->env.rank; }
int Communicator::world_size() const { return impl_->env.world_size; }
double Communicator::seconds() const { return impl_->seconds; }

void Communicator::all_reduce_sum(const std::vector<torch::Tensor>& tensors, const std::string& what) {
  impl_->bucketed(tensors, [&](torch::Tensor& bucket) {
    std::vector<torch::Tensor> one{bucket};
    impl_->run(what, [&] { return impl_->group->allreduce(one); });
  });
}

void Communicator::broadcast(const std::vector<torch::Tensor>& tensors, const std::string& what) {
  impl_->bucketed(tensors, [&](torch::Tensor& bucket) {
    std::vector<torch::Tensor> one{bucket};
    c10d::BroadcastOptions o;
    o.rootRank = 0;
    impl_->run(what, [&] { return impl_->group->broadcast(one, o); });
  });
}

std::string Communicator::broadcast_bytes(const std::string& bytes, const std::string& what) {
  auto size = torch::tensor({static_cast<int64_t>(bytes.size())}, torch::kLong);  // (1)
  broadcast({size}, what);
  const auto n = size.item<int64_t>();
  auto data = torch::empty({n}, torch::kUInt8);  // (n)
  if (rank() == 0 && n > 0) std::memcpy(data.data_ptr<uint8_t>(), bytes.data(), static_cast<size_t>(n));
  if (n > 0) broadcast({data}, what);
  return std::string(reinterpret_cast<const char*>(data.data_ptr<uint8_t>()), static_cast<size_t>(n));
}

std::vector<int> Communicator::failed_ranks(bool ok, const std::string& what) {
  auto flags = torch::zeros({world_size()}, torch::kInt);  // (world): 1 where a rank failed
  flags[rank()] = ok ? 0 : 1;
  all_reduce_sum({flags}, what);
  std::vector<int> failed;
  for (int r = 0; r < world_size(); ++r)
    if (flags[r].item<int>() != 0) failed.push_back(r);
  return failed;
}

}  // namespace attn
