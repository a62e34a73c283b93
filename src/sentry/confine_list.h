/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The system calls the sentry may make once it is set up (confine.c): one
 * SBX_SYSCALL(when, name, why) each, the single list that builds the
 * sentry's own seccomp filter and the table in docs/SECURITY.md
 * (scripts/sentry_syscalls.py writes it; tests/lint/sentry_syscalls.sh
 * fails when the two differ). @when is ALL, or DPDK for a call only a
 * --link=dpdk sentry may make (its PMDs' clean-up). Include it with
 * SBX_SYSCALL defined.
 */
/* memory */
SBX_SYSCALL(ALL, brk, "malloc")
SBX_SYSCALL(ALL, mmap, "malloc, ring and frame memory")
SBX_SYSCALL(ALL, munmap, "malloc; link rings at close")
SBX_SYSCALL(ALL, mremap, "realloc of large blocks")
SBX_SYSCALL(ALL, madvise, "malloc trimming")
SBX_SYSCALL(ALL, mprotect, "malloc arenas")
/* the loop */
SBX_SYSCALL(ALL, epoll_wait, "the host loop's wait")
SBX_SYSCALL(ALL, epoll_pwait, "the host loop's wait (libc's form)")
SBX_SYSCALL(ALL, epoll_ctl, "watching sockets' pairs and the control channel")
SBX_SYSCALL(ALL, poll, "one-fd checks (pair hang-up, link kicks)")
SBX_SYSCALL(ALL, ppoll, "poll()'s libc form")
SBX_SYSCALL(ALL, read, "pairs, signalfd, timerfd, /proc files")
SBX_SYSCALL(ALL, write, "pairs, the step log")
SBX_SYSCALL(ALL, readv, "stdio")
SBX_SYSCALL(ALL, writev, "stdio, the step log")
SBX_SYSCALL(ALL, close, "sockets, duplicated program fds")
SBX_SYSCALL(ALL, timerfd_settime, "the stack's deadline timer")
SBX_SYSCALL(ALL, timerfd_gettime, "the stack's deadline timer")
SBX_SYSCALL(ALL, timerfd_create, "timers made after set-up (control limits)")
SBX_SYSCALL(ALL, epoll_create1, "epoll sets made after set-up")
SBX_SYSCALL(ALL, clock_gettime, "time (when the vDSO is not used)")
SBX_SYSCALL(ALL, clock_nanosleep, "short waits at exit")
SBX_SYSCALL(ALL, nanosleep, "short waits at exit")
SBX_SYSCALL(ALL, gettid, "libc")
SBX_SYSCALL(ALL, getpid, "libc")
SBX_SYSCALL(ALL, futex, "libc locks; DPDK's threads")
SBX_SYSCALL(ALL, rt_sigprocmask, "libc, DPDK")
SBX_SYSCALL(ALL, rt_sigreturn, "signal return")
SBX_SYSCALL(ALL, sigaltstack,
	    "signal stacks (the sanitizers set one per thread)")
SBX_SYSCALL(ALL, restart_syscall, "restarted waits")
SBX_SYSCALL(ALL, exit, "a thread's end")
SBX_SYSCALL(ALL, exit_group, "the sentry's end")
/* the program's sockets: pairs, notifications, its memory */
SBX_SYSCALL(ALL, socketpair, "a pair per program socket")
SBX_SYSCALL(ALL, socket, "netlink sock_diag; the kernel provider's sockets")
SBX_SYSCALL(
	ALL, ioctl,
	"seccomp notifications (RECV, SEND, ID_VALID, ADDFD), SIOCOUTQ on pairs, links")
SBX_SYSCALL(ALL, pidfd_open, "a program process, to take its fds")
SBX_SYSCALL(ALL, pidfd_getfd, "our copy of a program fd a call names")
SBX_SYSCALL(ALL, process_vm_readv, "a call's arguments in program memory")
SBX_SYSCALL(ALL, process_vm_writev, "a call's results into program memory")
SBX_SYSCALL(ALL, fcntl, "O_NONBLOCK, flags of pair ends")
SBX_SYSCALL(ALL, dup, "fd hand-over")
SBX_SYSCALL(ALL, fstat, "pair identity")
SBX_SYSCALL(ALL, newfstatat, "pair identity (libc's fstat)")
SBX_SYSCALL(ALL, getsockopt, "SO_COOKIE of pair ends, SO_ERROR")
SBX_SYSCALL(ALL, setsockopt, "pair buffer sizes; the kernel provider's options")
SBX_SYSCALL(ALL, sendto, "pairs, sock_diag, link kicks")
SBX_SYSCALL(ALL, recvfrom, "pairs, sock_diag, link frames")
SBX_SYSCALL(ALL, sendmsg,
	    "pairs (datagrams with addresses), control replies, link frames")
SBX_SYSCALL(ALL, recvmsg, "pairs, control requests with fds")
SBX_SYSCALL(ALL, sendmmsg, "link frames")
SBX_SYSCALL(ALL, recvmmsg, "link frames")
SBX_SYSCALL(ALL, shutdown, "pair ends at EOF")
SBX_SYSCALL(ALL, getsockname, "the kernel provider's sockets")
SBX_SYSCALL(ALL, getpeername, "the kernel provider's sockets")
SBX_SYSCALL(ALL, bind, "the kernel provider's sockets")
SBX_SYSCALL(ALL, listen, "the kernel provider's sockets")
SBX_SYSCALL(ALL, connect, "the kernel provider's sockets")
SBX_SYSCALL(ALL, accept4, "the control channel; the kernel provider's sockets")
SBX_SYSCALL(ALL, accept, "the control channel")
/* processes */
SBX_SYSCALL(ALL, wait4, "reaping the program and cove exec's processes")
SBX_SYSCALL(ALL, waitid, "reaping")
SBX_SYSCALL(ALL, kill, "cove kill, signals forwarded, the end of the sandbox")
SBX_SYSCALL(ALL, tgkill, "libc's raise()")
SBX_SYSCALL(ALL, getuid, "control peers' credentials")
SBX_SYSCALL(ALL, geteuid, "libc")
/* files it reads after set-up */
SBX_SYSCALL(ALL, openat,
	    "/proc/net/tcp at the linger, /proc/sys at exit, /dev/null")
SBX_SYSCALL(ALL, open, "libc's fopen on some paths")
SBX_SYSCALL(ALL, lseek, "stdio")
SBX_SYSCALL(ALL, prctl, "PR_SET_PDEATHSIG off when the program exits")
SBX_SYSCALL(ALL, dup2, "stdio on /dev/null at the end")
SBX_SYSCALL(ALL, dup3, "stdio on /dev/null at the end")
SBX_SYSCALL(ALL, sched_yield, "DPDK's polling")
SBX_SYSCALL(ALL, getrandom, "libc")
SBX_SYSCALL(ALL, unlink, "the control socket's path at exit")
SBX_SYSCALL(ALL, getdents64, "listing /proc for cove ps")
/* --link=dpdk: what the PMDs do at close (af_xdp detaches its program) */
SBX_SYSCALL(DPDK, bpf, "net_af_xdp0 detaching its XDP program")
SBX_SYSCALL(DPDK, statfs, "net_af_xdp0 (libxdp) looking for bpffs")
SBX_SYSCALL(DPDK, mkdir, "net_af_xdp0 (libxdp) making its bpffs dir")
SBX_SYSCALL(DPDK, flock, "DPDK's and libxdp's lock files at clean-up")
