package master

import (
	"os"

	"github.com/freqd/freqd/worker/control"
)

// Datagram listeners (--listen udp:host:port, --listen unixgram:/path) answer
// connectionless queries: each request datagram gets one reply datagram (see
// handler.ServeDatagram for what they hold). The master binds each socket
// once and keeps it for its whole life, as it keeps its stream listeners;
// every worker, in every mode, reads the same socket, and the kernel hands
// each datagram to exactly one reader. A worker that dies costs only the
// datagram it was answering: the rest wait in the socket, which the master
// and the other workers still hold. The master never reads them itself, and
// holds them outside Go's poller (package listen), so a datagram wakes only
// a worker.
//
// In reuseport mode, too, the datagram socket is shared rather than split
// into one SO_REUSEPORT socket per slot. A per-slot UDP socket would tie a
// client, by its address hash, to one worker: its datagrams would wait out
// that worker's restart instead of going to a live one, and nothing is
// gained in exchange, since a datagram socket has no accept queue to spread.

// addDatagrams appends duplicates of the datagram sockets to a worker's
// ExtraFiles and returns their entries for its Spec: every worker reads all
// of them. The caller closes the duplicates once the worker has started.
func (m *Master) addDatagrams(files []*os.File) ([]*os.File, []control.Inherited, error) {
	var specs []control.Inherited
	for _, d := range m.datagrams {
		f, err := d.File()
		if err != nil {
			return files, specs, err
		}
		specs = append(specs, control.Inherited{FD: 3 + len(files), Addr: d.Address.String()})
		files = append(files, f)
	}
	return files, specs, nil
}
