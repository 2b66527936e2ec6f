// Package pidfile keeps a server's pidfile: created and locked before
// anything is bound, written once the server serves, removed on a clean
// exit, and passed to a successor master on a binary upgrade so that the
// lock is never released in between.
package pidfile

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// FDEnv passes the locked pidfile to a new master on SIGUSR2: a flock
// belongs to the open file description, so the successor holds the very
// lock its predecessor took, and no third master can slip in between.
const FDEnv = "FREQD_PIDFILE_FD"

// File is a pidfile locked for the server's life (flock), so that two
// servers configured with the same pidfile cannot both run.
type File struct {
	path string
	f    *os.File
}

// Lock opens and locks path, or adopts the locked descriptor a previous
// master passed (FDEnv). It is called before anything is bound, so a
// second server fails on the pidfile with a message naming the first.
func Lock(path string) (*File, error) {
	if v := os.Getenv(FDEnv); v != "" {
		os.Unsetenv(FDEnv)
		if fd, err := strconv.Atoi(v); err == nil {
			unix.CloseOnExec(fd)
			return &File{path: path, f: os.NewFile(uintptr(fd), path)}, nil
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pidfile %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("pidfile %s is locked by a running master (pid %s); stop it or choose another --pidfile",
				path, strings.TrimSpace(string(b)))
		}
		return nil, fmt.Errorf("pidfile %s: lock: %w", path, err)
	}
	return &File{path: path, f: f}, nil
}

// Write records this process's pid. The file is rewritten in place (not
// renamed), because the lock is on this inode; pids are short enough that a
// reader sees the old content or the new.
func (p *File) Write() error {
	s := strconv.Itoa(os.Getpid()) + "\n"
	if _, err := p.f.WriteAt([]byte(s), 0); err != nil {
		return fmt.Errorf("pidfile %s: %w", p.path, err)
	}
	if err := p.f.Truncate(int64(len(s))); err != nil {
		return fmt.Errorf("pidfile %s: %w", p.path, err)
	}
	return nil
}

// Remove deletes the pidfile if it names this process (or nobody yet), and
// releases it.
func (p *File) Remove() {
	b, err := os.ReadFile(p.path)
	if pid := strings.TrimSpace(string(b)); err == nil && (pid == "" || pid == strconv.Itoa(os.Getpid())) {
		os.Remove(p.path)
	}
	p.f.Close()
}

// Release closes the pidfile without removing it unless it is still empty:
// a server that failed to start leaves no empty pidfile behind, and one
// that handed over leaves its successor's.
func (p *File) Release() {
	if fi, err := p.f.Stat(); err == nil && fi.Size() == 0 {
		os.Remove(p.path)
	}
	p.f.Close()
}

// Handoff is the locked file, for a successor master's ExtraFiles; the
// successor adopts it through FDEnv.
func (p *File) Handoff() *os.File { return p.f }
