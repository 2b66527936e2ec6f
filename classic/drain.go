package classic

import (
	"net"
	"sync"
	"time"
)

// drainConn lets a graceful stop end a connection served by
// handler.ServeConn between requests: once drained, every read deadline the
// handler sets is clamped to now, so its pending read returns and it closes
// the connection, while a request already read is still answered. The lock
// orders drain against the handler setting its own deadline at the same
// moment.
type drainConn struct {
	net.Conn
	mu      sync.Mutex
	drained bool
}

func (c *drainConn) drain() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drained = true
	c.Conn.SetReadDeadline(time.Now())
}

func (c *drainConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.drained {
		t = time.Now()
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *drainConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.Conn.SetWriteDeadline(t)
}
