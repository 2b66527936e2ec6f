package classic

import (
	"errors"
	"net"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/freqd/freqd/internal/sys"
)

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
			delay = sys.NextBackoff(delay)
			log.Warn("accept failed; backing off", "listen", ln.Addr().String(), "error", err, "delay", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		take(c)
	}
}
