/*
 * floor: the least a server can do per request, for benchmarks to stand
 * beside. One thread, one level-triggered epoll set, non-blocking sockets;
 * every request read is answered with the same bulk reply, with no parsing
 * and no lookup. What a real server costs above it is its own work; what
 * the floor costs is the kernel's and the client's share, which every
 * server on the machine pays.
 *
 * A request is counted by the '*' that starts every RESP array, so a
 * pipelined read of N requests gets N replies in one write, as a server
 * would send them. It only suits clients that send arrays (redis-benchmark
 * does).
 *
 * Build: cc -O2 -o floor floor.c
 * Run:   floor tcp PORT | floor unix PATH    (loopback only)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char reply[] = "$7\r\n1501908\r\n";

static int listen_on(const char *kind, const char *where)
{
	int fd, one = 1;
	if (strcmp(kind, "tcp") == 0) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(where))};
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
		    bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
			return -1;
	} else {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		if (strlen(where) >= sizeof sa.sun_path) {
			errno = ENAMETOOLONG;
			return -1;
		}
		strcpy(sa.sun_path, where);
		unlink(where);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
			return -1;
	}
	return listen(fd, 4096) < 0 ? -1 : fd;
}

int main(int argc, char **argv)
{
	static char in[65536], out[65536];
	struct epoll_event ev, evs[256];
	int lfd, ep, tcp, one = 1;

	if (argc != 3 || (strcmp(argv[1], "tcp") != 0 && strcmp(argv[1], "unix") != 0)) {
		fprintf(stderr, "usage: floor tcp PORT | floor unix PATH\n");
		return 2;
	}
	tcp = strcmp(argv[1], "tcp") == 0;
	lfd = listen_on(argv[1], argv[2]);
	if (lfd < 0) {
		fprintf(stderr, "floor: listen on %s %s: %s\n", argv[1], argv[2], strerror(errno));
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == lfd) {
				int c;
				while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					if (tcp)
						setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					ev.events = EPOLLIN;
					ev.data.fd = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			ssize_t r = read(fd, in, sizeof in);
			if (r <= 0) {
				if (r == 0 || errno != EAGAIN)
					close(fd);
				continue;
			}
			size_t k = 0;
			for (ssize_t j = 0; j < r && k + sizeof reply - 1 <= sizeof out; j++)
				if (in[j] == '*') {
					memcpy(out + k, reply, sizeof reply - 1);
					k += sizeof reply - 1;
				}
			if (k == 0) { /* an inline command */
				memcpy(out, reply, sizeof reply - 1);
				k = sizeof reply - 1;
			}
			if (write(fd, out, k) < 0 && errno != EAGAIN)
				close(fd);
		}
	}
}
