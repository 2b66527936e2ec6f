package classic

import (
	"errors"
	"net"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/freqd/freqd/master"
)

// nextBackoff is the pause after an accept error that will not clear at
// once by itself (EMFILE, ENFILE, ENOBUFS): 5 ms doubling to 1 s, as
// net/http does, so an exhausted descriptor table is not met with a busy
// loop (PITFALLS #15).
func nextBackoff(d time.Duration) time.Duration {
	return max(5*time.Millisecond, min(2*d, time.Second))
}

// acceptEach accepts on ln until it is closed and hands every connection to
// take. take runs on the accept loop: while it runs, this listener accepts
// nothing, which the fork design relies on to hold connections back.
func acceptEach(ln net.Listener, log hclog.Logger, take func(net.Conn)) {
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			delay = nextBackoff(delay)
			log.Warn("accept failed; backing off", "listen", ln.Addr().String(), "error", err, "delay", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		take(c)
	}
}

// closeListeners closes ls and removes their unix socket files, which
// closing alone leaves in place (see master.Bind).
func closeListeners(ls []master.Listener) {
	for _, l := range ls {
		l.Close()
		if l.Address.Network == "unix" {
			os.Remove(l.Address.Addr)
		}
	}
}
