//===- ThreadPoolTest.cpp - qr_parallel_for and the thread pool -----------===//

#include "quant/Runtime/Runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

namespace {

// Records every chunk a qr_parallel_for call hands out.
struct ChunkLog {
  std::mutex mutex;
  std::vector<std::pair<int64_t, int64_t>> chunks;
  std::set<std::thread::id> threads;

  static void record(void *context, int64_t begin, int64_t end) {
    auto *log = static_cast<ChunkLog *>(context);
    std::lock_guard<std::mutex> lock(log->mutex);
    log->chunks.emplace_back(begin, end);
    log->threads.insert(std::this_thread::get_id());
  }
};

// Checks that the chunks tile [0, n) and that all but the last are at
// least `grain` long.
void expectTiling(ChunkLog &log, int64_t n, int64_t grain) {
  std::sort(log.chunks.begin(), log.chunks.end());
  if (n <= 0) {
    EXPECT_TRUE(log.chunks.empty());
    return;
  }
  ASSERT_FALSE(log.chunks.empty());
  int64_t next = 0;
  for (const auto &[begin, end] : log.chunks) {
    ASSERT_EQ(begin, next) << "gap or overlap";
    ASSERT_LT(begin, end);
    if (end != n) {
      EXPECT_GE(end - begin, std::max<int64_t>(grain, 1));
    }
    next = end;
  }
  EXPECT_EQ(next, n);
}

class ThreadPoolTest : public testing::Test {
protected:
  void TearDown() override { ASSERT_EQ(qr_set_num_threads(0), 0); }
};

TEST_F(ThreadPoolTest, CoversEveryIndexExactlyOnce) {
  for (int32_t threads : {1, 2, 3, 4, 8}) {
    ASSERT_EQ(qr_set_num_threads(threads), 0) << qr_last_error();
    for (int64_t n : {0, 1, 2, 3, 7, 8, 9, 64, 1000, 100003}) {
      for (int64_t grain : {-3, 0, 1, 2, 3, 16, 999, 1 << 20}) {
        ChunkLog log;
        qr_parallel_for(n, grain, ChunkLog::record, &log);
        SCOPED_TRACE("threads " + std::to_string(threads) + " n " +
                     std::to_string(n) + " grain " + std::to_string(grain));
        expectTiling(log, n, grain);
        EXPECT_LE(log.threads.size(), size_t(threads));
      }
    }
  }
}

// Back-to-back jobs stress the hand-over from one job to the next: a worker
// lingering in the previous job must not run (or lose) a chunk of this one.
TEST_F(ThreadPoolTest, ManyConsecutiveJobsLoseNothing) {
  ASSERT_EQ(qr_set_num_threads(4), 0);
  std::vector<std::atomic<int>> counts(17);
  auto count = [](void *context, int64_t begin, int64_t end) {
    auto &counts = *static_cast<std::vector<std::atomic<int>> *>(context);
    for (int64_t i = begin; i < end; ++i)
      counts[size_t(i)].fetch_add(1, std::memory_order_relaxed);
  };
  const int kJobs = 20000;
  for (int job = 0; job < kJobs; ++job)
    qr_parallel_for(int64_t(counts.size()), 1, count, &counts);
  for (const auto &c : counts)
    EXPECT_EQ(c.load(), kJobs);
}

TEST_F(ThreadPoolTest, RunsChunksConcurrently) {
  ASSERT_EQ(qr_set_num_threads(2), 0);
  // Each of the two chunks waits for the other to start: this only ends
  // quickly if a worker runs one of them while the caller runs the other.
  std::atomic<int> started{0};
  auto rendezvous = [](void *context, int64_t, int64_t) {
    auto &started = *static_cast<std::atomic<int> *>(context);
    started.fetch_add(1);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (started.load() < 2 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
  };
  qr_parallel_for(2, 1, rendezvous, &started);
  EXPECT_EQ(started.load(), 2);
}

TEST_F(ThreadPoolTest, NestedCallsRunSeriallyOnTheCallingThread) {
  ASSERT_EQ(qr_set_num_threads(4), 0);
  struct Outer {
    std::atomic<int> innerChunks{0};
    std::atomic<int> innerElsewhere{0};
    std::atomic<int> innerCovered{0};
  } outer;
  auto outerBody = [](void *context, int64_t begin, int64_t end) {
    auto &outer = *static_cast<Outer *>(context);
    struct Inner {
      Outer *outer;
      std::thread::id owner;
    } inner{&outer, std::this_thread::get_id()};
    auto innerBody = [](void *context, int64_t begin, int64_t end) {
      auto &inner = *static_cast<Inner *>(context);
      inner.outer->innerChunks.fetch_add(1);
      inner.outer->innerCovered.fetch_add(int(end - begin));
      if (std::this_thread::get_id() != inner.owner)
        inner.outer->innerElsewhere.fetch_add(1);
    };
    for (int64_t i = begin; i < end; ++i)
      qr_parallel_for(1000, 1, innerBody, &inner);
  };
  qr_parallel_for(8, 1, outerBody, &outer);
  EXPECT_EQ(outer.innerChunks.load(), 8); // one serial chunk per inner call
  EXPECT_EQ(outer.innerCovered.load(), 8 * 1000);
  EXPECT_EQ(outer.innerElsewhere.load(), 0);
}

TEST_F(ThreadPoolTest, ConcurrentCallersAllFinish) {
  ASSERT_EQ(qr_set_num_threads(3), 0);
  std::vector<std::thread> callers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&failures] {
      for (int job = 0; job < 300; ++job) {
        ChunkLog log;
        qr_parallel_for(257, 4, ChunkLog::record, &log);
        int64_t covered = 0;
        for (const auto &[begin, end] : log.chunks)
          covered += end - begin;
        if (covered != 257)
          failures.fetch_add(1);
      }
    });
  }
  for (std::thread &caller : callers)
    caller.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(ThreadPoolTest, WakesSleepingWorkers) {
  ASSERT_EQ(qr_set_num_threads(2), 0);
  for (int round = 0; round < 5; ++round) {
    // Longer than the workers spin, so they are asleep for the next job.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ChunkLog log;
    qr_parallel_for(100, 1, ChunkLog::record, &log);
    expectTiling(log, 100, 1);
  }
}

TEST_F(ThreadPoolTest, SetNumThreads) {
  ASSERT_EQ(qr_set_num_threads(3), 0);
  EXPECT_EQ(qr_get_num_threads(), 3);
  ASSERT_EQ(qr_set_num_threads(1), 0);
  EXPECT_EQ(qr_get_num_threads(), 1);
  ChunkLog serial;
  qr_parallel_for(100, 1, ChunkLog::record, &serial);
  ASSERT_EQ(serial.chunks.size(), 1u);
  EXPECT_EQ(serial.chunks[0], std::make_pair(int64_t(0), int64_t(100)));

  ASSERT_EQ(qr_set_num_threads(0), 0);
  EXPECT_GE(qr_get_num_threads(), 1);
  EXPECT_LE(qr_get_num_threads(),
            int32_t(std::max(1u, std::thread::hardware_concurrency())));

  EXPECT_EQ(qr_set_num_threads(-1), -1);
  EXPECT_STREQ(qr_last_error(),
               "invalid thread count -1 (expected 0 to 1024, 0 = all CPUs)");
  EXPECT_EQ(qr_set_num_threads(5000), -1);
}

TEST_F(ThreadPoolTest, SetNumThreadsInsideParallelForFails) {
  ASSERT_EQ(qr_set_num_threads(2), 0);
  std::atomic<int> refused{0};
  auto body = [](void *context, int64_t, int64_t) {
    if (qr_set_num_threads(1) == -1 &&
        std::string(qr_last_error()) ==
            "qr_set_num_threads called from inside qr_parallel_for")
      static_cast<std::atomic<int> *>(context)->fetch_add(1);
  };
  qr_parallel_for(2, 1, body, &refused);
  EXPECT_EQ(refused.load(), 2);
  EXPECT_EQ(qr_get_num_threads(), 2);
}

TEST_F(ThreadPoolTest, NullFunctionIsAnError) {
  qr_parallel_for(10, 1, nullptr, nullptr);
  EXPECT_STREQ(qr_last_error(), "qr_parallel_for called with a null function");
}

TEST(ClockTest, NowIsMonotonicNanoseconds) {
  uint64_t start = qr_now_ns();
  uint64_t previous = start;
  for (int i = 0; i < 1000; ++i) {
    uint64_t now = qr_now_ns();
    ASSERT_GE(now, previous);
    previous = now;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  EXPECT_GE(qr_now_ns() - start, 3000000u);
}

} // namespace
