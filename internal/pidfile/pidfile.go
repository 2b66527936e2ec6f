package master

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// PidfileFDEnv passes the locked pidfile to a new master on SIGUSR2: a
// flock belongs to the open file description, so the successor holds the
// very lock its predecessor took, and no third master can slip in between.
const PidfileFDEnv = "FREQD_PIDFILE_FD"

// Pidfile is a pidfile locked for the server's life (flock), so that two
// servers configured with the same pidfile cannot both run.
type Pidfile struct {
	path string
	f    *os.File
}

// LockPidfile opens and locks path, or adopts the locked descriptor a
// previous master passed. It is called before anything is bound, so a
// second master fails on the pidfile with a message naming the first.
func LockPidfile(path string) (*Pidfile, error) {
	if v := os.Getenv(PidfileFDEnv); v != "" {
		os.Unsetenv(PidfileFDEnv)
		if fd, err := strconv.Atoi(v); err == nil {
			unix.CloseOnExec(fd)
			return &Pidfile{path: path, f: os.NewFile(uintptr(fd), path)}, nil
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
	return &Pidfile{path: path, f: f}, nil
}

// Write records this process's pid. The file is rewritten in place (not
// renamed), because the lock is on this inode; pids are short enough that a
// reader sees the old content or the new.
func (p *Pidfile) Write() error {
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
func (p *Pidfile) Remove() {
	b, err := os.ReadFile(p.path)
	if pid := strings.TrimSpace(string(b)); err == nil && (pid == "" || pid == strconv.Itoa(os.Getpid())) {
		os.Remove(p.path)
	}
	p.f.Close()
}

// release closes the pidfile without removing it unless it is still empty:
// a master that failed to start leaves no empty pidfile behind, and one that
// handed over leaves its successor's.
func (p *Pidfile) release() {
	if fi, err := p.f.Stat(); err == nil && fi.Size() == 0 {
		os.Remove(p.path)
	}
	p.f.Close()
}

// WritePidfile locks path and writes this process's pid into it, for the
// single-process designs; RemovePidfile undoes it at exit.
func WritePidfile(path string) error {
	p, err := LockPidfile(path)
	if err != nil {
		return err
	}
	if err := p.Write(); err != nil {
		p.Remove()
		return err
	}
	heldPidfiles[path] = p
	return nil
}

// RemovePidfile removes a pidfile WritePidfile wrote.
func RemovePidfile(path string) {
	if p := heldPidfiles[path]; p != nil {
		p.Remove()
		delete(heldPidfiles, path)
	}
}

// heldPidfiles keeps WritePidfile's locks open; only a process's main
// goroutine uses it.
var heldPidfiles = map[string]*Pidfile{}
