package master

import (
	"fmt"
	"net"
)

// CheckProtected refuses, as Redis's protected mode does, to listen on an
// address other machines can reach while no password is set: a word table
// is harmless, but an open port that answers anyone is how servers get
// abused (and how INFO leaks pids and paths). --protected-mode=no is the
// operator saying that a firewall or network already protects the port.
func CheckProtected(addrs []string, requirePass string, protected bool) error {
	if !protected || requirePass != "" {
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

// loopbackOnly reports whether every address a binds is a loopback one.
// Unix sockets are local by nature; an empty host binds every interface.
func loopbackOnly(a Address) bool {
	if a.Network == "unix" || a.Network == "unixgram" {
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
