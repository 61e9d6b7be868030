#define _GNU_SOURCE
#include "process_support.h"
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

int ballot_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int ballot_become_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

int ballot_ppoll(struct pollfd *fds, nfds_t count, const struct timespec *timeout, const sigset_t *mask) {
    return ppoll(fds, count, timeout, mask);
}

int ballot_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

int ballot_spawn_chdir(posix_spawn_file_actions_t *actions, const char *directory) {
    return posix_spawn_file_actions_addchdir_np(actions, directory);
}

int ballot_realtime_scheduling(int priority) {
    struct sched_param parameters = { .sched_priority = priority };
    return sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &parameters);
}

int ballot_idle_scheduling(void) {
    struct sched_param parameters = { .sched_priority = 0 };
    return sched_setscheduler(0, SCHED_IDLE, &parameters);
}
