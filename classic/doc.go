// Package classic runs the textbook server designs that freqd's pre-forked
// master is measured against. Each serves the same handler over the same
// sealed, validated table (table.Load) on the same sockets
// (listen.Bind), so a benchmark compares only how connections are taken and
// served, never what is answered.
//
// # Designs
//
//   - iterative: one process serves one connection at a time and accepts the
//     next when it ends, polling every listener for whichever is ready. It
//     needs no locks and no scheduling, and one slow or idle client stalls
//     every other: the floor of concurrency.
//   - fork: the process accepts and starts a process per connection (this
//     binary re-executed in the hidden role "conn", since Go cannot fork a
//     running runtime) that serves it and exits. Clients are isolated from
//     each other's crashes, and every connection pays a process start: the
//     design loses on short connections and wins nothing on long ones that
//     pre-forked workers do not also win.
//   - goroutine: one process, a goroutine per connection, the
//     thread-per-connection design with threads that cost kilobytes. Simple
//     blocking code scales to many clients; one crash takes all of them down,
//     and every connection's stack and buffers live in one heap.
//   - epoll: one process and one thread running a non-blocking event loop on
//     raw epoll, the select() design. No locks, no stacks, the least memory
//     per connection; it uses one core only, and any slow request delays
//     every client.
//
// # Bounds
//
// fork starts at most Config.MaxChildren connection processes at once. Over
// the bound each accept loop holds the one connection it has accepted until a
// child exits, and further connections wait in the kernel's listen backlog
// (and are refused once it is full): a flood slows down, it does not fork-bomb
// the machine.
//
// epoll reads from a client, and executes its requests, only while fewer
// than 128 KiB of its replies wait to be written: a client that pipelines
// without reading stops being read, and its buffers stay bounded whatever it
// sends. Requests themselves are bounded by the handler's resp limits, and
// the read, idle and write timeouts apply, as in every design.
//
// # Signals
//
// SIGTERM and SIGINT stop gracefully: listeners close (a unix socket's file
// is removed), requests already read are answered, idle connections close,
// and whatever is still open after Config.ShutdownTimeout is closed.
// SIGQUIT stops at once. The fork design forwards the stop to its children
// as SIGTERM or SIGKILL; children also exit when the process that started
// them dies, because a pipe it holds open for them reports end of file.
package classic
