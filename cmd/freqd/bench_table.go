package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/freqd/freqd/shm/freqfile"
)

// tableID is how a server names its table in INFO (section table, field
// table_id): the table's id as eight lower-case hex digits.
func tableID(t *freqfile.Table) string { return fmt.Sprintf("%08x", t.ID()) }

// serverTableDiffers asks the server at addr which table it serves, and
// returns a message saying how it differs from the table bench checks
// replies against (described as local), or "" when they agree or the
// server cannot tell. Without this, a bench against another table reports
// every answer wrong and leaves the operator to guess why.
//
// The table id in INFO (the body checksum) settles it, even between
// tables of as many words. A server that cannot be asked (a password, a
// datagram address) or reports no table id is not checked: the load
// itself reports what it meets.
func serverTableDiffers(addr string, local *freqfile.Table, localName string) string {
	if strings.HasPrefix(addr, "udp:") || strings.HasPrefix(addr, "unixgram:") {
		return ""
	}
	c := dial(addr, "")
	defer c.Close()
	// freqd answers this at once; anything slower is not worth waiting
	// for before the load, which reports such a server on its own.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	info, err := c.Info(ctx, "table").Result()
	if err != nil {
		return ""
	}
	id, ok := infoField(info, "table_id")
	if !ok || id == tableID(local) {
		return ""
	}
	return fmt.Sprintf("the server at %s serves another table (table id %s) than %s (table id %s)",
		addr, id, localName, tableID(local))
}
