//===- ThreadPool.cpp - the runtime's process-wide thread pool ------------===//
//
// Micro-kernels call qr_parallel_for once per matmul, and a 4096x4096 GEMV
// takes about a millisecond, so a dispatch must cost a few microseconds:
//
//  - The job is published through one 64-bit atomic "ticket" holding the
//    job's chunk count and the next unclaimed chunk. Threads claim chunks
//    with a compare-exchange on it (dynamic scheduling) and read the job's
//    function and bounds only after a successful claim: a thread holding a
//    stale ticket value either fails to claim or claims a chunk of the
//    current job, and the job cannot change until all its chunks are done.
//  - The caller runs chunks too, then waits for a counter of finished
//    chunks to reach the chunk count.
//  - Idle workers spin for kWorkerSpinNs before they sleep on a condition
//    variable, so a call that follows another soon (the next kernel of a
//    model) pays no futex wake-up.
//
//===----------------------------------------------------------------------===//

#include "quant/Runtime/Runtime.h"
#include "RuntimeInternal.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <sched.h>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

using quant::runtime::setLastError;

namespace {

// Upper bound for qr_set_num_threads; also keeps the chunk count of a job
// well inside the ticket's 32-bit fields.
constexpr int32_t kMaxThreads = 1024;
// Chunks per thread: more chunks balance uneven work and threads that the
// OS preempts, fewer mean fewer claims on the shared ticket.
constexpr int64_t kChunksPerThread = 4;
// How long an idle worker polls for the next job before it sleeps.
constexpr uint64_t kWorkerSpinNs = 200 * 1000;
// The caller polls for stragglers; after this many polls it yields the CPU
// in case a preempted worker needs it (the machine may be oversubscribed).
constexpr int kPollsBeforeYield = 4096;

// True on pool workers and on a caller while it runs a job: a
// qr_parallel_for from there runs serially instead of deadlocking.
thread_local bool insideParallelFor = false;

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

uint64_t monotonicNs() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return uint64_t(now.tv_sec) * 1000000000u + uint64_t(now.tv_nsec);
}

// The CPUs this process may run on (respects taskset and cgroup cpusets,
// unlike std::thread::hardware_concurrency).
int32_t hardwareThreads() {
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
    return std::clamp<int32_t>(CPU_COUNT(&cpus), 1, kMaxThreads);
  return std::clamp<int32_t>(int32_t(std::thread::hardware_concurrency()), 1,
                             kMaxThreads);
}

// $QUANT_NUM_THREADS when it is a non-negative integer (0 = all CPUs),
// else all CPUs.
int32_t defaultThreads() {
  const char *text = std::getenv("QUANT_NUM_THREADS");
  if (!text || !*text)
    return hardwareThreads();
  char *end = nullptr;
  errno = 0;
  long value = std::strtol(text, &end, 10);
  if (errno || *end || value < 0)
    return hardwareThreads();
  return value == 0 ? hardwareThreads()
                    : int32_t(std::min<long>(value, kMaxThreads));
}

class ThreadPool {
public:
  // Never destroyed: at exit, another thread may still be inside a job, or
  // a static destructor may still call qr_parallel_for; the sleeping
  // workers end with the process.
  static ThreadPool &instance() {
    static ThreadPool *pool = new ThreadPool;
    return *pool;
  }

  int32_t numThreads() const { return threads.load(std::memory_order_relaxed); }

  int setNumThreads(int32_t requested) {
    if (insideParallelFor) {
      setLastError("qr_set_num_threads called from inside qr_parallel_for");
      return -1;
    }
    if (requested < 0 || requested > kMaxThreads) {
      setLastError("invalid thread count " + std::to_string(requested) +
                   " (expected 0 to " + std::to_string(kMaxThreads) +
                   ", 0 = all CPUs)");
      return -1;
    }
    std::lock_guard<std::mutex> lock(dispatchMutex);
    stopWorkers();
    // Workers start lazily, on the first job that needs them.
    threads.store(requested == 0 ? hardwareThreads() : requested,
                  std::memory_order_relaxed);
    return 0;
  }

  void parallelFor(int64_t n, int64_t grain, qr_task_fn fn, void *context) {
    if (!fn) {
      setLastError("qr_parallel_for called with a null function");
      return;
    }
    if (n <= 0)
      return;
    grain = std::max<int64_t>(grain, 1);
    if (insideParallelFor || numThreads() == 1 || n <= grain) {
      fn(context, 0, n);
      return;
    }
    // When another application thread owns the workers, run on this one
    // rather than wait for them.
    std::unique_lock<std::mutex> lock(dispatchMutex, std::try_to_lock);
    if (!lock.owns_lock() || !startWorkers()) {
      fn(context, 0, n);
      return;
    }
    int64_t target = int64_t(workers.size() + 1) * kChunksPerThread;
    int64_t chunk = std::max(grain, (n + target - 1) / target);
    int64_t numChunks = (n + chunk - 1) / chunk;
    if (numChunks == 1) {
      fn(context, 0, n);
      return;
    }

    job = Job{fn, context, n, chunk};
    chunksDone.store(0, std::memory_order_relaxed);
    // seq_cst pairs with the sleepers increment in workerLoop: either a
    // worker about to sleep sees this job, or we see it sleeping.
    ticket.store(uint64_t(numChunks) << 32, std::memory_order_seq_cst);
    if (sleepers.load(std::memory_order_seq_cst) > 0) {
      { std::lock_guard<std::mutex> wakeLock(wakeMutex); }
      wake.notify_all();
    }

    insideParallelFor = true;
    runChunks();
    insideParallelFor = false;
    for (int polls = 0; chunksDone.load(std::memory_order_acquire) != numChunks;
         ++polls) {
      if (polls < kPollsBeforeYield)
        cpuRelax();
      else
        std::this_thread::yield();
    }
  }

private:
  struct Job {
    qr_task_fn fn;
    void *context;
    int64_t size;
    int64_t chunk;
  };

  ThreadPool() : threads(defaultThreads()) {}

  static bool hasWork(uint64_t ticketValue) {
    return uint32_t(ticketValue) < uint32_t(ticketValue >> 32);
  }

  // Claims and runs chunks of the current job until none are left.
  void runChunks() {
    uint64_t current = ticket.load(std::memory_order_relaxed);
    int64_t finished = 0;
    while (hasWork(current)) {
      if (!ticket.compare_exchange_weak(current, current + 1,
                                        std::memory_order_acquire,
                                        std::memory_order_relaxed))
        continue;
      // Safe to read now: the job cannot change before this chunk is done.
      int64_t begin = int64_t(uint32_t(current)) * job.chunk;
      job.fn(job.context, begin, std::min(begin + job.chunk, job.size));
      ++finished;
      current = ticket.load(std::memory_order_relaxed);
    }
    if (finished)
      chunksDone.fetch_add(finished, std::memory_order_release);
  }

  void workerLoop() {
    insideParallelFor = true;
    while (!stopping.load(std::memory_order_relaxed)) {
      runChunks();
      // Spin for the next job, then sleep until one is published.
      uint64_t spinUntil = monotonicNs() + kWorkerSpinNs;
      bool haveJob = false;
      for (int polls = 0; !haveJob; ++polls) {
        haveJob = hasWork(ticket.load(std::memory_order_relaxed)) ||
                  stopping.load(std::memory_order_relaxed);
        if (haveJob || (polls % 64 == 0 && monotonicNs() > spinUntil))
          break;
        cpuRelax();
      }
      if (haveJob)
        continue;
      std::unique_lock<std::mutex> lock(wakeMutex);
      sleepers.fetch_add(1, std::memory_order_seq_cst);
      wake.wait(lock, [this] {
        return hasWork(ticket.load(std::memory_order_seq_cst)) ||
               stopping.load(std::memory_order_relaxed);
      });
      sleepers.fetch_sub(1, std::memory_order_relaxed);
    }
  }

  // Starts the worker threads the current thread count asks for; false if
  // the OS refuses (then the job runs serially and the error is recorded).
  // Called with dispatchMutex held.
  bool startWorkers() {
    size_t wanted = size_t(numThreads() - 1);
    try {
      while (workers.size() < wanted)
        workers.emplace_back([this] { workerLoop(); });
    } catch (const std::system_error &error) {
      setLastError("cannot start a thread pool worker: " +
                   std::string(error.what()));
      stopWorkers();
      threads.store(1, std::memory_order_relaxed);
      return false;
    }
    return true;
  }

  // Called with dispatchMutex held, so no job is running.
  void stopWorkers() {
    {
      std::lock_guard<std::mutex> lock(wakeMutex);
      stopping.store(true, std::memory_order_relaxed);
    }
    wake.notify_all();
    for (std::thread &worker : workers)
      worker.join();
    workers.clear();
    stopping.store(false, std::memory_order_relaxed);
  }

  std::atomic<int32_t> threads;
  // Held by the thread that dispatches a job or resizes the pool.
  std::mutex dispatchMutex;
  std::vector<std::thread> workers;

  // The current job: written before the ticket that publishes it, read by
  // a thread only after it claimed a chunk.
  Job job{};
  // (chunk count << 32) | next unclaimed chunk.
  std::atomic<uint64_t> ticket{0};
  std::atomic<int64_t> chunksDone{0};

  std::mutex wakeMutex;
  std::condition_variable wake;
  std::atomic<int32_t> sleepers{0};
  std::atomic<bool> stopping{false};
};

} // namespace

extern "C" {

int qr_set_num_threads(int32_t threads) {
  return ThreadPool::instance().setNumThreads(threads);
}

int32_t qr_get_num_threads(void) { return ThreadPool::instance().numThreads(); }

void qr_parallel_for(int64_t n, int64_t grain, qr_task_fn fn, void *context) {
  ThreadPool::instance().parallelFor(n, grain, fn, context);
}

uint64_t qr_now_ns(void) { return monotonicNs(); }

} // extern "C"
