// Package evloop is the event loop that serves freqd's connections without a
// goroutine per client: one OS thread, every socket non-blocking, one
// level-triggered epoll set, and handler.Session.Process run on each
// connection's input buffer. The classic epoll design is one Loop on the
// listeners; each pre-forked worker is one Loop too, fed by a shared
// listener or by the master's descriptor queue, which is how nginx's
// workers are built.
//
// Compared with Go's netpoller and a goroutine per connection, a request
// costs an epoll_wait shared with the other ready clients, a read and a
// write: no goroutine wake-up, no handoff between threads, no per-connection
// socket options. A connection that arrives through the descriptor queue is
// read at once, before it is registered with epoll, because its request has
// usually arrived while the master passed it on.
//
// # Bounds
//
// A client is read from, and its requests executed, only while fewer than
// 128 KiB of its replies wait to be written, so one that pipelines without
// reading stops being read and its buffers stay bounded. Requests are
// bounded by the handler's resp limits; the handler's read, idle and write
// timeouts are checked by a sweep every tenth of the shortest of them.
//
// # Draining
//
// Drain stops taking connections and lets each open one reach a request
// boundary (no partial request buffered, no reply unsent, no bytes waiting
// in the kernel) and then gives it up: closed, or handed to a callback that
// passes it to another process, so a keep-alive client never sees a worker
// go away.
package evloop
