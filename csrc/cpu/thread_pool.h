// pydl's thread pool: the workers behind parallel_for (cpu/threads.h).
//
// Why not OpenMP: an OpenMP region ends at a barrier that every thread of the
// team must reach, so a thread the OS has not scheduled stalls the region for as
// long as it is away; and idle threads spin for milliseconds (libgomp) to 200 ms
// (LLVM's runtime) after each region, taking the core that a descheduled sibling,
// another library's pool or another process needs. Here:
//
// - each participant of a job (the caller, the workers) owns a contiguous share
//   of its chunks and runs it; once a share's owner has shown no progress for
//   1 ms, the others take over what is left of it, so a thread that lost its core
//   holds the job for at most that long. Not sooner: a worker the OS is slow to
//   wake (a busy machine) still finds its share waiting, so pydl keeps all its
//   threads' worth of CPU instead of running the job on the caller alone;
// - every wait spins for at most spin_us() microseconds, yielding the core
//   between short runs, then sleeps (a futex on Linux); no spinning for 50 ms
//   after a worker started a job over 300 us late (other threads want the cores;
//   shorter delays are mostly a VM's hiccups);
// - the caller returns once every chunk is done; a worker that wakes after its
//   job is over finds nothing to take and touches nothing.
#pragma once

#include <cstdint>

namespace pydl {

// How long an idle thread spins before it sleeps, in microseconds. The default
// covers the gaps between the parallel regions of one training step, so a busy
// pydl keeps its workers awake, and is short enough that an idle one gives its
// core away almost at once. A spinning thread yields between short runs of pause
// instructions, so a thread waiting for its core (another process's, or pydl's
// own caller or worker placed on the same core) runs at once. When a worker starts
// a job over 300 us late (no core was free for it), waits do not spin for 50 ms:
// next to processes that want every core a sleeping worker is woken ahead of them,
// a yielding one waits its turn.
int spin_us();
void set_spin_us(int us);
inline constexpr int kDefaultSpinUs = 50;

// Worker threads started so far (they are started on first need, never stopped).
int pool_workers();
// Diagnostics: whether waits spin now, and the pool's counters (a late start: a
// worker that began a job long after it was published, for want of a free core).
bool pool_spinning();
struct PoolCounts {
    std::int64_t jobs = 0, caller_chunks = 0, worker_chunks = 0, late_starts = 0;
};
PoolCounts pool_counts();

// Tests only: before each chunk it takes, the thread with this index (0: the
// caller, 1..: the workers in the order they joined) sleeps `us` microseconds;
// index < 0 turns the delay off. Lets a test force uneven scheduling and check
// that the results keep their bits.
void set_test_delay(int thread_index, int us);

}  // namespace pydl
