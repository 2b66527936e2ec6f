package master

import (
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Environment variables through which a master receives listening sockets
// instead of binding them: from the master it replaces on SIGUSR2 (as nginx
// and unicorn do), or from systemd's socket activation.
const (
	// ListenFDsEnv is "FD=KEY,FD=KEY,...": KEY is the address as
	// listenerKey renders it, with "#N" for reuseport slot N > 0.
	ListenFDsEnv = "FREQD_LISTEN_FDS"
	// UpgradeFDEnv names the pipe on which a new master reports that it
	// serves, and HandoffFDEnv the socket on which the old master passes it
	// the connections its workers hand back.
	UpgradeFDEnv = "FREQD_UPGRADE_FD"
	HandoffFDEnv = "FREQD_HANDOFF_FD"
)

// inherited holds the listening sockets this process was given, by key.
type inherited struct {
	socks   map[string]net.Listener
	packets map[string]net.PacketConn // datagram sockets, keyed by their address
	upgrade []string                  // the previous master's addresses in order, as --listen values
	systemd []string                  // systemd's sockets in order, as --listen values
}

// inheritListeners adopts the sockets named by ListenFDsEnv or by systemd's
// LISTEN_FDS/LISTEN_PID, and clears those variables so that no child
// inherits them by mistake.
func inheritListeners() (*inherited, error) {
	in := &inherited{socks: map[string]net.Listener{}, packets: map[string]net.PacketConn{}}
	if v := os.Getenv(ListenFDsEnv); v != "" {
		os.Unsetenv(ListenFDsEnv)
		for _, kv := range strings.Split(v, ",") {
			fdStr, key, ok := strings.Cut(kv, "=")
			fd, err := strconv.Atoi(fdStr)
			if !ok || err != nil || fd < 3 {
				in.close()
				return nil, fmt.Errorf("%s: bad entry %q", ListenFDsEnv, kv)
			}
			if strings.HasPrefix(key, netUDP+":") || strings.HasPrefix(key, netUnixgram+":") {
				pc, err := adoptPacketConn(fd)
				if err != nil {
					in.close()
					return nil, fmt.Errorf("%s: %s: %w", ListenFDsEnv, key, err)
				}
				in.packets[key] = pc
				in.upgrade = append(in.upgrade, key)
				continue
			}
			ln, err := adoptListener(fd)
			if err != nil {
				in.close()
				return nil, fmt.Errorf("%s: %s: %w", ListenFDsEnv, key, err)
			}
			in.socks[key] = ln
			if !strings.Contains(key, "#") {
				in.upgrade = append(in.upgrade, strings.TrimPrefix(key, "tcp:"))
			}
		}
	}
	if pid, n := os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS"); n != "" && pid == strconv.Itoa(os.Getpid()) {
		os.Unsetenv("LISTEN_PID")
		os.Unsetenv("LISTEN_FDS")
		os.Unsetenv("LISTEN_FDNAMES")
		count, err := strconv.Atoi(n)
		if err != nil || count < 0 {
			in.close()
			return nil, fmt.Errorf("LISTEN_FDS=%q is not a number", n)
		}
		for fd := 3; fd < 3+count; fd++ {
			ln, err := adoptListener(fd)
			if err != nil {
				in.close()
				return nil, fmt.Errorf("systemd socket (fd %d): %w; freqd takes stream sockets only (ListenStream=)", fd, err)
			}
			key := listenerKey(ln)
			in.socks[key] = ln
			in.systemd = append(in.systemd, strings.TrimPrefix(key, "tcp:"))
		}
	}
	return in, nil
}

// adoptListener wraps an inherited listening socket, close-on-exec again.
func adoptListener(fd int) (net.Listener, error) {
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
		return nil, fmt.Errorf("descriptor %d is not open", fd)
	}
	unix.CloseOnExec(fd)
	f := os.NewFile(uintptr(fd), "inherited")
	ln, err := net.FileListener(f)
	f.Close() // FileListener duplicated it (PITFALLS #2)
	if err != nil {
		return nil, fmt.Errorf("descriptor %d is not a listening socket: %w", fd, err)
	}
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false) // the master removes its socket files itself
	}
	return ln, nil
}

// adoptPacketConn wraps an inherited datagram socket, close-on-exec again.
func adoptPacketConn(fd int) (net.PacketConn, error) {
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
		return nil, fmt.Errorf("descriptor %d is not open", fd)
	}
	unix.CloseOnExec(fd)
	f := os.NewFile(uintptr(fd), "inherited")
	pc, err := net.FilePacketConn(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("descriptor %d is not a datagram socket: %w", fd, err)
	}
	return pc, nil
}

// takePacket removes and returns the datagram socket for addr, or nil.
func (in *inherited) takePacket(addr string) net.PacketConn {
	if in == nil {
		return nil
	}
	pc := in.packets[addr]
	delete(in.packets, addr)
	return pc
}

// take removes and returns the socket for key, or nil.
func (in *inherited) take(key string) net.Listener {
	if in == nil {
		return nil
	}
	ln := in.socks[key]
	delete(in.socks, key)
	return ln
}

// rest lists the keys nobody took.
func (in *inherited) rest() []string {
	var keys []string
	for k := range in.socks {
		keys = append(keys, k)
	}
	for k := range in.packets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (in *inherited) close() {
	for k, ln := range in.socks {
		ln.Close()
		delete(in.socks, k)
	}
	for k, pc := range in.packets {
		pc.Close()
		delete(in.packets, k)
	}
}

// listenerKey names a bound socket by what it is bound to.
func listenerKey(ln net.Listener) string {
	a := ln.Addr()
	if a.Network() == "unix" {
		return "unix:" + a.String()
	}
	return "tcp:" + a.String()
}

// addressKey names the socket an Address binds, as listenerKey would name
// it once bound: ":7379" binds "[::]:7379", a host name its first address.
func addressKey(a Address) string {
	if a.Network == "unix" {
		return "unix:" + a.Addr
	}
	host, port, _ := net.SplitHostPort(a.Addr)
	switch ip := net.ParseIP(host); {
	case host == "":
		host = "::"
	case ip != nil:
		host = ip.String()
	default:
		if ta, err := net.ResolveTCPAddr("tcp", a.Addr); err == nil && ta.IP != nil {
			host = ta.IP.String()
		}
	}
	return "tcp:" + net.JoinHostPort(host, port)
}
