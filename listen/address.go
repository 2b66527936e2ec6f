package listen

import (
	"fmt"
	"net"
	"strings"

	"golang.org/x/sys/unix"
)

// DefaultAddr is where freqd listens when no --listen is given: loopback
// only, and not Redis's 6379, so freqd can run beside a Redis server.
const DefaultAddr = "127.0.0.1:7379"

// Network names, as in Address.Network.
const (
	TCP      = "tcp"
	Unix     = "unix"
	UDP      = "udp"
	Unixgram = "unixgram"
)

// maxUnixPath is the longest socket path sun_path holds (108 bytes with the
// terminating NUL on Linux).
const maxUnixPath = len(unix.RawSockaddrUnix{}.Path) - 1

// Address is one parsed --listen value.
type Address struct {
	Network string // TCP, Unix, UDP or Unixgram
	Addr    string // host:port or a path
}

// String renders the address as --listen takes it.
func (a Address) String() string {
	if a.Network == TCP || a.Network == "" {
		return a.Addr
	}
	return a.Network + ":" + a.Addr
}

// IsDatagram reports whether a is served by datagram sockets.
func (a Address) IsDatagram() bool { return a.Network == UDP || a.Network == Unixgram }

// IsPath reports whether a is a socket file.
func (a Address) IsPath() bool { return a.Network == Unix || a.Network == Unixgram }

// ParseAddress accepts host:port, :port, [::1]:port and unix:/path, and the
// datagram addresses udp:host:port and unixgram:/path.
func ParseAddress(s string) (Address, error) {
	for _, network := range []string{Unix, Unixgram} {
		p, ok := strings.CutPrefix(s, network+":")
		if !ok {
			continue
		}
		switch {
		case p == "":
			return Address{}, fmt.Errorf("listen address %s: empty socket path", s)
		case len(p) > maxUnixPath:
			return Address{}, fmt.Errorf("listen address %s: socket path is %d bytes, the limit is %d (sun_path); use a shorter path", s, len(p), maxUnixPath)
		}
		return Address{Network: network, Addr: p}, nil
	}
	network, hp := TCP, s
	if rest, ok := strings.CutPrefix(s, "udp:"); ok {
		network, hp = UDP, rest
	}
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		if network == UDP {
			return Address{}, fmt.Errorf("listen address %s: want udp:host:port, udp::port or udp:[::1]:port", s)
		}
		return Address{}, fmt.Errorf("listen address %s: want host:port, :port, [::1]:port or unix:/path", s)
	}
	if _, err := net.LookupPort(network, port); err != nil {
		return Address{}, fmt.Errorf("listen address %s: bad port %s", s, port)
	}
	return Address{Network: network, Addr: net.JoinHostPort(host, port)}, nil
}

// Key names the socket a binds, as it is named when passed to another
// process: ":7379" binds "tcp:[::]:7379", a host name its first address. A
// reuseport slot's socket adds "#slot".
func (a Address) Key() string {
	if a.IsPath() {
		return a.String()
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
	return a.Network + ":" + net.JoinHostPort(host, port)
}

// loopbackOnly reports whether every address a binds is a loopback one.
// Unix sockets are local by nature; an empty host binds every interface.
func loopbackOnly(a Address) bool {
	if a.IsPath() {
		return true
	}
	host, _, err := net.SplitHostPort(a.Addr)
	if err != nil || host == "" {
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return false
		}
	}
	return true
}

// CheckProtected refuses, as Redis's protected mode does, to listen on an
// address other machines can reach while no password is set: a word table
// is harmless, but an open port that answers anyone is how servers get
// abused (INFO shows pids and paths, and a UDP port can be made to reflect
// replies at a spoofed address). protected false is the operator saying
// that a firewall or network already protects the port.
func CheckProtected(addrs []string, havePassword, protected bool) error {
	if !protected || havePassword {
		return nil
	}
	for _, s := range addrs {
		a, err := ParseAddress(s)
		if err != nil {
			return err
		}
		if !loopbackOnly(a) {
			return fmt.Errorf("listen %s: this address is reachable from other machines and no password is set; "+
				"set --requirepass (or --requirepass-file, or FREQD_REQUIREPASS), listen on loopback or a unix socket, "+
				"or pass --protected-mode=no if a firewall protects the port", a)
		}
	}
	return nil
}
