package listen

import (
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ListenFDsEnv is how a master passes its sockets to the master that
// replaces it on SIGUSR2 (as nginx and unicorn do): "FD=KEY,FD=KEY,...",
// KEY as Socket.Key names the socket ("#N" for reuseport slot N > 0, or a
// name of the caller's choosing such as "metrics").
const ListenFDsEnv = "FREQD_LISTEN_FDS"

// Inherited holds the sockets this process was given instead of binding
// them: by the master it replaces, or by systemd's socket activation.
type Inherited struct {
	sockets map[string]*Socket
	// Upgrade lists the previous master's addresses in its order, as
	// --listen values: an upgraded master serves exactly these.
	Upgrade []string
	// Systemd lists the sockets systemd passed, in its order, as --listen
	// values: served when no --listen is given.
	Systemd []string
}

// Inherit adopts the sockets named by ListenFDsEnv or by systemd's
// LISTEN_FDS and LISTEN_PID, and clears those variables so that no child
// inherits them by mistake. systemd may pass stream sockets (ListenStream=)
// and datagram sockets (ListenDatagram=), TCP, UDP or unix.
func Inherit() (*Inherited, error) {
	in := &Inherited{sockets: map[string]*Socket{}}
	if v := os.Getenv(ListenFDsEnv); v != "" {
		os.Unsetenv(ListenFDsEnv)
		for _, kv := range strings.Split(v, ",") {
			fdText, key, ok := strings.Cut(kv, "=")
			fd, err := strconv.Atoi(fdText)
			if !ok || err != nil || fd < 3 {
				in.Close()
				return nil, fmt.Errorf("%s: bad entry %q", ListenFDsEnv, kv)
			}
			s, err := adopt(fd, key)
			if err != nil {
				in.Close()
				return nil, fmt.Errorf("%s: %s: %w", ListenFDsEnv, key, err)
			}
			in.sockets[key] = s
			if strings.HasPrefix(key, s.Address.Network+":") && !strings.Contains(key, "#") {
				in.Upgrade = append(in.Upgrade, s.Address.String())
			}
		}
	}
	if pid, n := os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS"); n != "" && pid == strconv.Itoa(os.Getpid()) {
		os.Unsetenv("LISTEN_PID")
		os.Unsetenv("LISTEN_FDS")
		os.Unsetenv("LISTEN_FDNAMES")
		count, err := strconv.Atoi(n)
		if err != nil || count < 0 {
			in.Close()
			return nil, fmt.Errorf("LISTEN_FDS=%q is not a number", n)
		}
		for fd := 3; fd < 3+count; fd++ {
			s, err := adopt(fd, "")
			if err != nil {
				in.Close()
				return nil, fmt.Errorf("systemd socket (descriptor %d): %w; freqd takes TCP, UDP and unix sockets (ListenStream=, ListenDatagram=)", fd, err)
			}
			in.sockets[s.Key()] = s
			in.Systemd = append(in.Systemd, s.Address.String())
		}
	}
	return in, nil
}

// adopt wraps an inherited socket descriptor, close-on-exec and
// non-blocking again, after checking what it is: a listening stream socket
// or a bound datagram socket, of a family freqd serves.
func adopt(fd int, key string) (*Socket, error) {
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
		return nil, fmt.Errorf("descriptor %d is not open", fd)
	}
	unix.CloseOnExec(fd)
	a, err := boundAddress(fd)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("descriptor %d: %w", fd, err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("descriptor %d: %w", fd, err)
	}
	return newSocket(fd, a, key, true), nil
}

// boundAddress tells what a socket descriptor is bound to.
func boundAddress(fd int) (Address, error) {
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return Address{}, fmt.Errorf("not a socket: %w", err)
	}
	stream := typ == unix.SOCK_STREAM
	switch {
	case stream:
		if on, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || on == 0 {
			return Address{}, fmt.Errorf("a stream socket that is not listening")
		}
	case typ != unix.SOCK_DGRAM:
		return Address{}, fmt.Errorf("a socket of type %d, neither stream nor datagram", typ)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return Address{}, fmt.Errorf("getsockname: %w", err)
	}
	var ap netip.AddrPort
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		ap = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		ap = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrUnix:
		if sa.Name == "" || sa.Name[0] == '@' || sa.Name[0] == 0 {
			return Address{}, fmt.Errorf("a unix socket without a path (abstract or unbound)")
		}
		if stream {
			return Address{Network: Unix, Addr: sa.Name}, nil
		}
		return Address{Network: Unixgram, Addr: sa.Name}, nil
	default:
		return Address{}, fmt.Errorf("a socket of family %T, neither IP nor unix", sa)
	}
	if stream {
		return Address{Network: TCP, Addr: ap.String()}, nil
	}
	return Address{Network: UDP, Addr: ap.String()}, nil
}

// Take removes and returns the socket named key, or nil. A nil
// *Inherited has none.
func (in *Inherited) Take(key string) *Socket {
	if in == nil {
		return nil
	}
	s := in.sockets[key]
	delete(in.sockets, key)
	return s
}

// Rest lists the keys nobody took.
func (in *Inherited) Rest() []string {
	if in == nil {
		return nil
	}
	var keys []string
	for k := range in.sockets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Close closes the sockets nobody took.
func (in *Inherited) Close() {
	if in == nil {
		return
	}
	for k, s := range in.sockets {
		s.Close()
		delete(in.sockets, k)
	}
}
