#ifndef BALLOT_PROCESS_SUPPORT_H
#define BALLOT_PROCESS_SUPPORT_H
// The few Linux/GNU process calls Swift's Glibc module does not import (they need _GNU_SOURCE, or are
// variadic): the sidecar's keeper uses them to supervise a process group without races, the
// events benchmark to schedule its subscribers, and the harness to start a child in a directory.
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <time.h>

/// pipe2(fds, O_CLOEXEC): both ends close on exec, atomically, so no concurrently spawned process
/// inherits them. Returns 0, or -1 with errno.
int ballot_pipe_cloexec(int fds[2]);

/// prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants are re-parented to this process (so it can
/// reap them) instead of to init. Returns 0, or -1 with errno.
int ballot_become_subreaper(void);

/// ppoll: waits for `fds` until `timeout` (NULL: no limit) with `mask` as the signal mask for the
/// wait only, so a signal blocked outside the wait interrupts it without a race.
int ballot_ppoll(struct pollfd *fds, nfds_t count, const struct timespec *timeout, const sigset_t *mask);

/// posix_spawn_file_actions_addclosefrom_np: the spawned process starts with no descriptor from
/// `lowest` up. Returns 0 or an error number.
int ballot_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest);

/// posix_spawn_file_actions_addchdir_np: the spawned process starts in `directory` (the path is
/// copied). Returns 0 or an error number.
int ballot_spawn_chdir(posix_spawn_file_actions_t *actions, const char *directory);

/// Real-time scheduling for the calling process, not inherited by its children:
/// sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, priority). Returns 0, or -1 with errno
/// (EPERM without CAP_SYS_NICE or an RLIMIT_RTPRIO that allows it).
int ballot_realtime_scheduling(int priority);

/// SCHED_IDLE for the calling thread: it runs only when no other thread wants the CPU. The events
/// benchmark puts its thousands of subscribers there, so that on a shared machine they do not take
/// the CPU from the nodes they measure, as subscribers on other machines would not. Returns 0, or -1
/// with errno.
int ballot_idle_scheduling(void);

#endif
