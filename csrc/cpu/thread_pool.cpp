// pydl's thread pool (cpu/thread_pool.h): workers that sleep when idle, one job
// at a time, each participant's share of chunks in a range that the others may
// take over when its owner is late.
//
// A range is one 64-bit word: the job's generation (32 bits), the next chunk to
// take (16 bits) and the end of the range (16 bits). A thread takes a chunk with
// a compare-and-swap that also checks the generation, so a worker that wakes
// after its job is over takes nothing and touches nothing of the next job. The
// caller counts finished chunks and returns when all are done; it never waits for
// a chunk that nobody has taken.
#include "cpu/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>

#include "cpu/threads.h"

#if defined(PYDL_THREADS)
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#else
#include <condition_variable>
#endif
#include <pthread.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#endif

namespace pydl {

namespace {
std::atomic<int> g_spin_us{kDefaultSpinUs};
// Waits do not spin before this steady-clock time (ns): set when a worker started
// a job late, the sign that other threads want the cores (cpu/thread_pool.h).
std::atomic<std::int64_t> g_no_spin_until{0};
std::atomic<std::int64_t> g_late_starts{0};
std::atomic<int> g_delay_thread{-1};
std::atomic<int> g_delay_us{0};
thread_local bool t_in_parallel = false;
}  // namespace

int spin_us() { return g_spin_us.load(std::memory_order_relaxed); }
void set_spin_us(int us) { g_spin_us.store(us < 0 ? 0 : us, std::memory_order_relaxed); }

void set_test_delay(int thread_index, int us) {
    g_delay_us.store(us, std::memory_order_relaxed);
    g_delay_thread.store(thread_index, std::memory_order_relaxed);
}

namespace detail {
bool in_parallel() { return t_in_parallel; }
}  // namespace detail

#if !defined(PYDL_THREADS)

int pool_workers() { return 0; }
PoolCounts pool_counts() { return {}; }
bool pool_spinning() { return false; }

namespace detail {
void run_chunks(std::ptrdiff_t n, std::ptrdiff_t, int, RangeFn fn, void* ctx) { fn(ctx, 0, n); }
}  // namespace detail

#else

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
        .count();
}

// A worker that starts a job this long after it was published found no free
// core: a spinning worker sees a job within a microsecond when it has a core of
// its own; a sleeping one is woken in tens of microseconds on an idle core. The
// caller stops spinning for a worker this late (it may be waiting for the
// caller's core).
constexpr std::int64_t kLateFromSpinNs = 30'000;
constexpr std::int64_t kLateFromSleepNs = 300'000;
// Contention: a worker that starts a job more than kContendedLateNs late turns
// spinning off for kNoSpinForNs. Next to processes that want every core, a sleeping
// worker is woken ahead of them (it has slept, they have not), while a spinning one
// has given its turn away by yielding; a busy core delays a worker by a good part
// of a time slice (half the late starts next to 2 busy processes on this project's
// 2-core VM were over 300 us). A virtual machine's vCPU also stalls now and then on
// an idle host, mostly for 30-50 us (several times a second there); when each such
// stall stopped the spinning, every parallel region paid a futex wake (about 50 us
// there) for 50 ms, which made a (256, 1024) layer normalization at 2 threads take
// 1.3-2.6x its time.
constexpr std::int64_t kContendedLateNs = 300'000;
constexpr std::int64_t kNoSpinForNs = 50'000'000;

void note_contention() {
    g_no_spin_until.store(now_ns() + kNoSpinForNs, std::memory_order_relaxed);
}

// The others take over a participant's chunks once it has taken none of its own
// for this long (or never started). Shorter would let a caller that finished its
// share first take the whole job whenever the OS is slow to run a woken worker --
// and then, on a busy machine, pydl would run on one thread; longer would let a
// descheduled worker hold the job for a whole time slice.
constexpr std::int64_t kStealAfterNs = 1'000'000;

// Sleeping on a 32-bit word until it no longer holds `expected` (or, with a
// timeout, until timeout_ns have passed), and waking the sleepers: a futex on
// Linux, a mutex and condition variable elsewhere.
#if defined(__linux__)
void sleep_while(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                 std::int64_t timeout_ns = -1) {
    timespec ts{};
    if (timeout_ns >= 0) {
        ts.tv_sec = static_cast<time_t>(timeout_ns / 1'000'000'000);
        ts.tv_nsec = static_cast<long>(timeout_ns % 1'000'000'000);
    }
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected,
            timeout_ns >= 0 ? &ts : nullptr, nullptr, 0);
}
void wake_all(std::atomic<std::uint32_t>& word) {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 0x7fffffff,
            nullptr, nullptr, 0);
}
#else
std::mutex g_park_mutex;
std::condition_variable g_park_cv;
void sleep_while(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                 std::int64_t timeout_ns = -1) {
    std::unique_lock<std::mutex> lock(g_park_mutex);
    const auto changed = [&] { return word.load() != expected; };
    if (timeout_ns < 0)
        g_park_cv.wait(lock, changed);
    else
        g_park_cv.wait_for(lock, std::chrono::nanoseconds(timeout_ns), changed);
}
void wake_all(std::atomic<std::uint32_t>&) {
    std::lock_guard<std::mutex> lock(g_park_mutex);
    g_park_cv.notify_all();
}
#endif

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// Spins until ready(), until spin_us() has passed or until give_up(); returns
// ready(). Between short runs of pause instructions it yields the core: when
// another thread waits for it (another process's, or pydl's own caller or worker
// placed on the same core) that one runs at once, else the yield returns at once.
// No spin for a while after a late start (g_no_spin_until).
template <class Ready, class GiveUp>
bool spin_until(Ready&& ready, GiveUp&& give_up) {
    if (ready()) return true;
    const auto limit = std::chrono::microseconds(spin_us());
    if (limit.count() == 0 || now_ns() < g_no_spin_until.load(std::memory_order_relaxed))
        return false;
    const auto start = Clock::now();
    for (;;) {
        for (int i = 0; i < 32; ++i) {
            cpu_relax();
            if (ready()) return true;
        }
        if (Clock::now() - start >= limit || give_up()) return ready();
        std::this_thread::yield();
    }
}

// Waits until word != value: spins, then sleeps with `sleeping` raised so that
// the writer knows to wake it. Returns the new value; *slept tells whether it slept.
std::uint32_t wait_for_change(std::atomic<std::uint32_t>& word, std::uint32_t value,
                              std::atomic<std::uint32_t>& sleeping, bool* slept) {
    std::uint32_t now = value;
    *slept = false;
    if (spin_until([&] { return (now = word.load(std::memory_order_acquire)) != value; },
                   [] { return false; }))
        return now;
    *slept = true;
    sleeping.store(1, std::memory_order_seq_cst);
    while ((now = word.load(std::memory_order_seq_cst)) == value) sleep_while(word, value);
    sleeping.store(0, std::memory_order_relaxed);
    return now;
}

// Stores `value` into a word another thread may be sleeping on, and wakes it;
// returns whether it had to.
bool publish(std::atomic<std::uint32_t>& word, std::uint32_t value,
             std::atomic<std::uint32_t>& sleeping) {
    word.store(value, std::memory_order_seq_cst);
    if (!sleeping.load(std::memory_order_seq_cst)) return false;
    wake_all(word);
    return true;
}

constexpr std::uint64_t kField = 0xffff;
constexpr std::ptrdiff_t kMaxChunks = static_cast<std::ptrdiff_t>(kField);
constexpr int kMaxWorkers = 4095;  // set_num_threads accepts up to 4096

constexpr std::uint64_t pack_range(std::uint32_t gen, std::uint64_t next, std::uint64_t end) {
    return (std::uint64_t{gen} << 32) | (next << 16) | end;
}

// One participant's share of a job: chunks [next, end) of generation `gen`, and
// when its owner last showed progress (took a chunk of it, or the job began).
struct alignas(64) Range {
    std::atomic<std::uint64_t> word{0};
    std::atomic<std::int64_t> progress_ns{0};

    // Takes the next chunk of job `gen`; false when none is left.
    bool take(std::uint32_t gen, std::ptrdiff_t* chunk) {
        std::uint64_t cur = word.load(std::memory_order_acquire);
        for (;;) {
            const std::uint64_t next = (cur >> 16) & kField, end = cur & kField;
            if ((cur >> 32) != gen || next >= end) return false;
            if (word.compare_exchange_weak(cur, cur + (std::uint64_t{1} << 16),
                                           std::memory_order_acq_rel, std::memory_order_acquire)) {
                *chunk = static_cast<std::ptrdiff_t>(next);
                return true;
            }
        }
    }

    bool has_chunks(std::uint32_t gen) const {
        const std::uint64_t cur = word.load(std::memory_order_acquire);
        return (cur >> 32) == gen && ((cur >> 16) & kField) < (cur & kField);
    }
};

struct alignas(64) Slot {
    std::atomic<std::uint32_t> job{0};       // generation this worker is asked to join
    std::atomic<std::uint32_t> sleeping{0};  // the worker sleeps on `job`
    std::atomic<std::int64_t> chunks{0};     // chunks this worker ran (diagnostics)
    bool woken = false;                      // the caller had to wake it for this job
    Range range;                             // its share of the current job
};

class Pool {
public:
    static Pool& get() {
        // Never destroyed: workers may still sleep on its words at exit.
        static Pool* pool = new Pool();
        return *pool;
    }

    void run(std::ptrdiff_t n, std::ptrdiff_t chunks, int threads, detail::RangeFn fn, void* ctx) {
        std::unique_lock<std::mutex> lock(submit_, std::try_to_lock);
        if (!lock.owns_lock()) {  // another thread's job is running: stay serial
            fn(ctx, 0, n);
            return;
        }
        const int helpers = grow(threads - 1);
        if (helpers == 0) {
            fn(ctx, 0, n);
            return;
        }
        const int parts = helpers + 1;
        chunks = std::min({std::max<std::ptrdiff_t>(chunks, parts), kMaxChunks, n});
        fn_ = fn;
        ctx_ = ctx;
        n_ = n;
        chunks_ = chunks;
        done_.store(0, std::memory_order_relaxed);
        const std::int64_t start = now_ns();
        published_ns_.store(start, std::memory_order_relaxed);
        const std::uint32_t gen = ++generation_;
        // Participant p (0: the caller, w + 1: worker w) owns chunks
        // [chunks * p / parts, chunks * (p + 1) / parts).
        for (int p = 0; p < parts; ++p) {
            Range& r = range_of(p);
            r.progress_ns.store(start, std::memory_order_relaxed);
            r.word.store(pack_range(gen, static_cast<std::uint64_t>(chunks * p / parts),
                                    static_cast<std::uint64_t>(chunks * (p + 1) / parts)),
                         std::memory_order_release);
        }
        participants_.store(parts, std::memory_order_release);
        for (int w = 0; w < helpers; ++w) slot(w).woken = publish(slot(w).job, gen, slot(w).sleeping);
        t_in_parallel = true;
        jobs_.store(jobs_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        work(gen, 0, caller_chunks_);
        // Wait for the chunks others hold; take over the share of any participant
        // that shows no progress for kStealAfterNs.
        const auto all = static_cast<std::uint32_t>(chunks);
        // Spin for the last chunks only while every worker has started in time: one
        // that has not may be waiting for the very core this thread would spin on.
        const auto not_started = [&] {
            const std::int64_t waited = now_ns() - start;
            for (int w = 0; w < helpers; ++w) {
                if (waited <= (slot(w).woken ? kLateFromSleepNs : kLateFromSpinNs)) continue;
                if (slot(w).range.progress_ns.load(std::memory_order_relaxed) == start &&
                    slot(w).range.has_chunks(gen)) {
                    return true;
                }
            }
            return false;
        };
        if (!spin_until([&] { return done_.load(std::memory_order_acquire) == all; },
                        not_started)) {
            caller_sleeping_.store(1, std::memory_order_seq_cst);
            for (std::uint32_t d; (d = done_.load(std::memory_order_seq_cst)) != all;) {
                const std::int64_t steal_at = next_steal_ns(gen), now = now_ns();
                if (steal_at == INT64_MAX) {  // every chunk is taken: wait for the last
                    sleep_while(done_, d);
                } else if (steal_at > now) {
                    sleep_while(done_, d, steal_at - now);
                } else {
                    caller_sleeping_.store(0, std::memory_order_relaxed);
                    work(gen, 0, caller_chunks_);
                    caller_sleeping_.store(1, std::memory_order_seq_cst);
                }
            }
            caller_sleeping_.store(0, std::memory_order_relaxed);
        }
        t_in_parallel = false;
    }

    int workers() const { return workers_.load(std::memory_order_acquire); }

    // Diagnostics: jobs run, chunks the callers ran, chunks the workers ran.
    std::atomic<std::int64_t> jobs_{0}, caller_chunks_{0};
    std::int64_t worker_chunks() {
        std::int64_t total = 0;
        for (int w = 0; w < workers(); ++w) total += slot(w).chunks.load(std::memory_order_relaxed);
        return total;
    }

private:
    Pool() { pthread_atfork(&Pool::before_fork, &Pool::after_fork_parent, &Pool::after_fork_child); }

    Slot& slot(int w) { return *slots_[w].load(std::memory_order_acquire); }
    Range& range_of(int p) { return p == 0 ? caller_range_ : slot(p - 1).range; }

    // participants_ may already describe a newer job than the one a late worker
    // was woken for: every take() checks the generation, and every range it names
    // exists (workers are never removed).
    int parts() { return std::min(participants_.load(std::memory_order_acquire), workers() + 1); }

    // The earliest time a range of job `gen` with chunks left may be taken over.
    std::int64_t next_steal_ns(std::uint32_t gen) {
        std::int64_t earliest = INT64_MAX;
        for (int p = 0, n = parts(); p < n; ++p) {
            Range& r = range_of(p);
            if (r.has_chunks(gen))
                earliest = std::min(earliest, r.progress_ns.load(std::memory_order_relaxed) +
                                                  kStealAfterNs);
        }
        return earliest;
    }

    // Runs chunks of job `gen`: all of participant `self`'s own range, then those
    // of the ranges whose owners show no progress for kStealAfterNs.
    void work(std::uint32_t gen, int self, std::atomic<std::int64_t>& ran) {
        const int n = parts();
        Range& own = range_of(self % n);
        for (std::ptrdiff_t c; own.take(gen, &c);) {
            own.progress_ns.store(now_ns(), std::memory_order_relaxed);
            run_chunk(c, self, ran);
        }
        for (int i = 1; i < n; ++i) {
            Range& other = range_of((self + i) % n);
            while (now_ns() - other.progress_ns.load(std::memory_order_relaxed) > kStealAfterNs) {
                std::ptrdiff_t c;
                if (!other.take(gen, &c)) break;
                run_chunk(c, self, ran);
            }
        }
    }

    void run_chunk(std::ptrdiff_t c, int self, std::atomic<std::int64_t>& ran) {
        // Chunk c is taken: its job stays alive until it is counted done.
        if (self == g_delay_thread.load(std::memory_order_relaxed))
            std::this_thread::sleep_for(
                std::chrono::microseconds(g_delay_us.load(std::memory_order_relaxed)));
        // The job's fields are read before the chunk is counted done: after that,
        // its caller may return and publish the next job.
        const std::ptrdiff_t n = n_, k = chunks_;
        fn_(ctx_, n * c / k, n * (c + 1) / k);
        ran.store(ran.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        const std::uint32_t finished = done_.fetch_add(1, std::memory_order_seq_cst) + 1;
        if (finished == static_cast<std::uint32_t>(k) &&
            caller_sleeping_.load(std::memory_order_seq_cst))
            wake_all(done_);
    }

    void worker_main(Slot* s, int self, std::uint32_t seen) {
        t_in_parallel = true;  // a parallel_for inside a chunk runs serially
        for (;;) {
            bool slept;
            seen = wait_for_change(s->job, seen, s->sleeping, &slept);
            note_start(slept);
            work(seen, self, s->chunks);
        }
    }

    // Counts a late start (kLateFromSpinNs, kLateFromSleepNs: diagnostics); one of
    // kContendedLateNs turns spinning off for a while. The publish time may belong to
    // a newer job than the one this worker was woken for; that only makes the start
    // look earlier.
    void note_start(bool slept) {
        const std::int64_t late = now_ns() - published_ns_.load(std::memory_order_relaxed);
        if (late > (slept ? kLateFromSleepNs : kLateFromSpinNs)) {
            late_starts_.fetch_add(1, std::memory_order_relaxed);
        }
        if (late > kContendedLateNs) note_contention();
    }

    // Starts workers up to `wanted` (under submit_); returns how many there are.
    int grow(int wanted) {
        wanted = std::min(wanted, kMaxWorkers);
        for (int w = workers(); w < wanted; ++w) {
            Slot* s = new Slot();
            const std::uint32_t gen = generation_;
            s->job.store(gen, std::memory_order_relaxed);
            try {
                std::thread([this, s, w, gen] { worker_main(s, w + 1, gen); }).detach();
            } catch (const std::system_error&) {
                delete s;
                break;  // no more threads to be had: run with those there are
            }
            slots_[w].store(s, std::memory_order_release);
            workers_.store(w + 1, std::memory_order_release);
        }
        return std::min(wanted, workers());
    }

    // fork(): no job may be running while the process is copied, and the child
    // has none of the parent's workers, so it forgets them (their slots leak).
    static void before_fork() { get().submit_.lock(); }
    static void after_fork_parent() { get().submit_.unlock(); }
    static void after_fork_child() {
        Pool& p = get();
        p.workers_.store(0);
        p.caller_sleeping_.store(0);
        p.submit_.unlock();
    }

    std::mutex submit_;  // held for the whole of a job
    std::atomic<Slot*> slots_[kMaxWorkers] = {};
    std::atomic<int> workers_{0};
    std::uint32_t generation_ = 0;
    // The job: written by its caller before the ranges are published.
    detail::RangeFn fn_ = nullptr;
    void* ctx_ = nullptr;
    std::ptrdiff_t n_ = 0, chunks_ = 1;
    std::atomic<int> participants_{0};
    Range caller_range_;
    alignas(64) std::atomic<std::uint32_t> done_{0};
    std::atomic<std::uint32_t> caller_sleeping_{0};
    std::atomic<std::int64_t> published_ns_{0};

public:
    std::atomic<std::int64_t> late_starts_{0};
};

}  // namespace

int pool_workers() { return Pool::get().workers(); }

PoolCounts pool_counts() {
    Pool& p = Pool::get();
    return {p.jobs_.load(), p.caller_chunks_.load(), p.worker_chunks(), p.late_starts_.load()};
}

bool pool_spinning() { return now_ns() >= g_no_spin_until.load(std::memory_order_relaxed); }


namespace detail {
void run_chunks(std::ptrdiff_t n, std::ptrdiff_t chunks, int threads, RangeFn fn, void* ctx) {
    Pool::get().run(n, chunks, threads, fn, ctx);
}
}  // namespace detail

#endif  // PYDL_THREADS

}  // namespace pydl
