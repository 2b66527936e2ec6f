package classic

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/freqd/freqd/internal/childproc"
	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/version"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/shm/freqfile"
	"github.com/freqd/freqd/shm/memfd"
)

// ConnSpecEnv is the environment variable through which the fork design
// hands a connection process its ConnSpec.
const ConnSpecEnv = "FREQD_CONN_SPEC"

// ConnSpec is everything a fork-design connection process needs; the
// descriptors it names are the process's inherited ExtraFiles.
type ConnSpec struct {
	LogLevel string `json:"log_level"`
	LogJSON  bool   `json:"log_json"`

	ConnFD     int `json:"conn_fd"`     // the accepted connection
	TableFD    int `json:"table_fd"`    // sealed memfd holding the frequency table
	LifelineFD int `json:"lifeline_fd"` // pipe whose end of file means the parent died

	Timeouts handler.Timeouts `json:"timeouts"`

	RequirePass string `json:"requirepass,omitempty"` // see control.Spec.RequirePass
}

// ConnSpecFromEnv reads the spec the accepting process set, with a clear
// error when this process was not started by one.
func ConnSpecFromEnv() (*ConnSpec, error) {
	var s ConnSpec
	if err := childproc.ReadSpec(ConnSpecEnv, "`freqd serve --mode fork`", &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// RunConn is the fork design's child: it serves the one connection spec
// names and returns when the client is done. SIGTERM (or SIGINT) lets it
// answer the requests it has read and close; SIGQUIT closes at once. If the
// parent dies, the child exits at once: nobody would stop it otherwise.
func RunConn(spec *ConnSpec, log hclog.Logger) error {
	// Exec cleared close-on-exec on what we inherited; set it again so
	// nothing leaks into a process this one might start.
	for _, fd := range []int{spec.ConnFD, spec.TableFD, spec.LifelineFD} {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return fmt.Errorf("inherited descriptor %d: %w (started by hand, not by `freqd serve --mode fork`?)", fd, err)
		}
		unix.CloseOnExec(fd)
	}
	life := os.NewFile(uintptr(spec.LifelineFD), "lifeline")
	go func() {
		io.Copy(io.Discard, life)
		log.Warn("the accepting process is gone; closing the connection")
		os.Exit(1)
	}()

	tf := os.NewFile(uintptr(spec.TableFD), "table")
	if err := memfd.CheckSealed(tf); err != nil {
		tf.Close()
		return fmt.Errorf("table: %w", err)
	}
	table, err := freqfile.OpenFile(tf)
	tf.Close()
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	defer table.Close()

	cf := os.NewFile(uintptr(spec.ConnFD), "conn")
	nc, err := net.FileConn(cf)
	cf.Close() // FileConn made its own duplicate
	if err != nil {
		return fmt.Errorf("inherited connection: %w", err)
	}
	c := &drainConn{Conn: nc}

	h := handler.New(table, handler.Options{Version: version.Get().Version, Timeouts: spec.Timeouts, RequirePass: spec.RequirePass,
		Info: []handler.InfoSection{{Name: "design", Append: func(b []byte) []byte {
			return fmt.Appendf(b, "mode:%s\r\nmaster_pid:%d\r\n", mode.Fork, os.Getppid())
		}}}})

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	go func() {
		for sig := range sigs {
			if sig == syscall.SIGQUIT {
				c.Close()
			} else {
				c.drain()
			}
		}
	}()

	if err := h.ServeConn(c); err != nil {
		log.Debug("connection ended", "remote", fmt.Sprint(c.RemoteAddr()), "error", err)
	}
	return nil
}
