// Package fdpass sends and receives open file descriptors between processes
// over AF_UNIX sockets with SCM_RIGHTS.
//
// freqd's master accepts connections and hands each one to a worker process
// by passing its descriptor. The dispatch channel is one SOCK_SEQPACKET
// socketpair (see [Socketpair]): the master writes into one end, every worker
// inherits the other end and reads from it. The kernel gives each message to
// exactly one reader, so the socket is a queue that idle workers drain and no
// one has to choose a worker. The master keeps a copy of the receiving end as
// well: descriptors queued in a socket are freed the moment every receiving
// end is closed, and the copy keeps them waiting while no worker is alive.
// This package owns only the messages; accepting connections, starting
// workers and deciding who reads the queue belong to the master and worker
// packages.
//
// # Messages
//
// A message is a non-empty payload plus zero to [MaxFDs] descriptors, sent and
// received whole:
//
//   - The payload must carry at least one byte. On SOCK_SEQPACKET a
//     zero-length message is indistinguishable from the peer's EOF, and on
//     stream sockets Go would slip in a hidden dummy byte.
//   - A message with no descriptors is valid. [Recv] returns it with an empty
//     descriptor slice and a nil error; a caller that expects a descriptor
//     must check len(fds) itself.
//   - A message that does not fit the receiver (more descriptors than its
//     maxFDs, a control buffer the kernel had to truncate, a payload longer
//     than the buffer, a malformed control message) is an error, and every
//     descriptor of it that the kernel had already installed is closed, so a
//     confused sender cannot leak descriptors into the receiver.
//   - Received descriptors are close-on-exec and belong to the caller.
//   - The peer's death (every copy of the sending end closed) reads as io.EOF.
//
// # Go's netpoller or a blocking thread
//
// [Send] and [Recv] work on a *net.UnixConn and park the goroutine in Go's
// netpoller while the socket is full or empty. Each reading process has the
// socket in its own epoll set, so a message wakes every idle reader and all
// but one find the queue empty again. [SendFd] and [RecvFd] take a raw
// descriptor for callers that run a blocking loop on a locked OS thread;
// the kernel then wakes exactly one blocked reader per message.
//
// Blocking mode (O_NONBLOCK) is a property of the open file description, which
// is shared by every duplicate of the descriptor in every process that
// inherited it. [FileConn] (through net.FileConn) turns it on for all of them;
// a process that later calls [RecvFd] on its copy gets EAGAIN instead of
// blocking. All users of one socket must therefore agree on the mode.
//
// Descriptors in flight count against the sending user's RLIMIT_NOFILE until
// they are received. This package does not log; it returns errors that say what
// went wrong.
package fdpass
