// Worker pool behind parallel_for. Workers spin briefly after each job, then sleep on a condition
// variable; the caller takes part in every job, so a pool of T threads has T - 1 workers. The pool runs
// one job at a time: a caller that finds it busy (another thread's op, or a nested call) runs its work
// inline, so concurrent callers never wait on each other and chunks of different jobs never mix.
#include "parallel.h"

#include <cblas.h>  // scipy-openblas32: scipy_openblas_set_num_threads

#include "tensorlogic/device.h"
#include "tensorlogic/errors.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace tensorlogic::cpu {
namespace {

// One parallel_for call. It lives on the caller's stack; the caller does not return before every
// worker that joined it has left (`joined` back to 0), so no worker touches a finished job.
struct Job {
  const std::function<void(int64_t)>* task;
  int64_t chunks;
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> done{0};
  std::exception_ptr error;      // the first exception of any chunk (written under the pool's mutex)
  std::atomic<int> joined{0};    // workers inside drain() of this job (changed under the pool's mutex)
};

// Waking a sleeping thread costs tens of microseconds on a virtual machine (the idle vCPU halts), more than
// a small op's whole work: split over two threads, a 10 us elementwise op took 17-20 us. So a thread that
// waits for work, or for the others to finish, first polls for this long (PyTorch's OpenMP workers spin
// likewise), and sleeps only when no work comes. A millisecond spans the Python between a training step's
// parallel ops: with 200 us the small GPT's step at two threads still took 4.7 ms against 4.4 at one.
constexpr auto kSpin = std::chrono::microseconds(1000);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Polls `ready` for up to kSpin; whether it became true.
template <typename Ready>
bool spin_until(Ready ready) {
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= until) return ready();
  }
}

class Pool {
 public:
  explicit Pool(int threads) { start(threads); }

  int size() const { return threads_.load(std::memory_order_relaxed); }

  void resize(int threads) {
    std::lock_guard<std::mutex> job_lock(job_mutex_);  // waits for the running job, if any
    stop();
    start(threads);
  }

  // Runs `task` over `chunks` with the workers; false (and nothing run) when another job holds the pool.
  bool try_run(int64_t chunks, const std::function<void(int64_t)>& task) {
    std::unique_lock<std::mutex> job_lock(job_mutex_, std::try_to_lock);
    if (!job_lock.owns_lock()) return false;
    Job job;
    job.task = &task;
    job.chunks = chunks;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &job;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    drain(job);
    const auto finished = [&] { return job.done.load() == job.chunks && job.joined.load() == 0; };
    spin_until(finished);
    // Checked again under the lock: a worker may have joined (to find no chunk left) since the poll.
    std::unique_lock<std::mutex> lock(mutex_);
    finished_.wait(lock, finished);
    job_ = nullptr;
    lock.unlock();
    if (job.error) std::rethrow_exception(job.error);
    return true;
  }

 private:
  // Starts threads - 1 workers; where the system refuses one (a count in the millions), the ones started are
  // stopped, the pool is left with the caller alone, and the refusal is a typed error.
  void start(int threads) {
    stopping_ = false;
    try {
      for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
    } catch (const std::system_error& e) {
      const size_t started = workers_.size();
      stop();
      threads_.store(1);
      throw OutOfMemoryError("set_num_threads(" + std::to_string(threads) + "): the system refused thread " +
                             std::to_string(started + 1) + " (" + e.what() + "); the pool now has 1 thread");
    }
    threads_.store(threads);
  }

  void drain(Job& job) {
    for (;;) {
      const int64_t chunk = job.next.fetch_add(1);
      if (chunk >= job.chunks) return;
      try {
        (*job.task)(chunk);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!job.error) job.error = std::current_exception();
      }
      if (job.done.fetch_add(1) + 1 == job.chunks) {
        std::lock_guard<std::mutex> lock(mutex_);
        finished_.notify_all();
      }
    }
  }

  void work() {
    uint64_t seen = 0;
    for (;;) {
      Job* job;
      spin_until([&] { return generation_.load(std::memory_order_acquire) != seen || stopping_.load(); });
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
        job = job_;
        if (job == nullptr) continue;  // that job is over already (its caller ran it alone): wait for the next
        ++job->joined;
      }
      drain(*job);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--job->joined == 0) finished_.notify_all();
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::atomic<int> threads_{1};
  std::mutex job_mutex_;  // held by the caller of the running job
  std::mutex mutex_;      // guards job_, changes of generation_ and stopping_, and each job's error and joined
  std::condition_variable wake_, finished_;
  Job* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};  // counts jobs started; read without the lock by spinning workers
  std::atomic<bool> stopping_{false};
};

Pool& pool() {
  // Never destroyed: worker threads must not be joined during static destruction.
  // OpenBLAS is held to one thread for good: sgemm_f32 (gemm.cpp) splits large products over this pool.
  static Pool* instance = (scipy_openblas_set_num_threads(1), new Pool(std::max(1u, std::thread::hardware_concurrency())));
  return *instance;
}

thread_local bool inside_job = false;

// Chunks are claimed dynamically, so a few per thread let the others take over the share of a thread
// that starts late (woken slowly, or preempted on a busy machine) instead of waiting for it.
constexpr int kChunksPerThread = 4;

// Marks the current thread as running a chunk, so that parallel_for calls inside it run inline.
struct InsideJob {
  bool prev = inside_job;
  InsideJob() { inside_job = true; }
  ~InsideJob() { inside_job = prev; }
};

}  // namespace

int num_threads() { return pool().size(); }

// Far more threads than any machine runs: each is started at once and spins between jobs, so a count in the
// millions hung the process (tl.set_num_threads(2**30)) long before the system refused a thread.
constexpr int kMaxThreads = 1024;

void set_num_threads(int threads) {
  if (threads < 1 || threads > kMaxThreads) {
    throw ArgumentError("set_num_threads: expected a number of threads in [1, " + std::to_string(kMaxThreads) +
                        "], got " + std::to_string(threads));
  }
  pool().resize(threads);
}

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int threads = num_threads();
  const int64_t chunks = std::min<int64_t>(threads * kChunksPerThread, (n + grain - 1) / grain);
  if (threads <= 1 || chunks <= 1 || inside_job) {
    fn(0, n);
    return;
  }
  const int64_t per = (n + chunks - 1) / chunks;
  const bool ran = pool().try_run(chunks, [&](int64_t c) {
    const InsideJob mark;
    const int64_t begin = c * per;
    const int64_t end = std::min(n, begin + per);
    if (begin < end) fn(begin, end);
  });
  if (!ran) fn(0, n);  // the pool serves another thread's op: this one runs on its caller alone
}

}  // namespace tensorlogic::cpu

namespace tensorlogic {

int cpu_num_threads() { return cpu::num_threads(); }

void set_cpu_num_threads(int threads) { cpu::set_num_threads(threads); }

}  // namespace tensorlogic
