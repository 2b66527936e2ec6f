// Package resp is freqd's codec for the Redis serialization protocol: an
// incremental request parser, and append-style reply writers for RESP2 and
// RESP3.
//
// # Parsing
//
// A Parser accepts both request forms a Redis server accepts: multibulk
// ("*2\r\n$3\r\nGET\r\n$3\r\nthe\r\n", what client libraries send) and inline
// ("GET the\r\n", what a person types into nc or telnet; a bare "\n" ends a
// line too, and arguments may be quoted as redis-cli quotes them). It is
// incremental: Next is handed whatever bytes have arrived and either returns
// one complete request and the number of bytes it took, or ErrIncomplete.
// A blocking read loop and a non-blocking event loop drive it the same way,
// and pipelining needs nothing more than calling Next again on the rest.
//
// The parser trusts nothing a client announces. Every length is checked
// against Limits before it is used, and nothing is allocated for an announced
// size: memory grows only with bytes that have actually arrived, so
// "*1000000000\r\n" or "$9223372036854775807\r\n" cost a few bytes, not
// gigabytes. A connection that has yet to authenticate can be held to
// Redis's tighter bounds for that state (Parser.Unauthenticated; 10
// arguments of 16 KiB by default). A request that breaks the protocol or a
// limit yields a *ProtocolError whose text is the one Redis sends
// ("Protocol error: invalid bulk length"). After one the byte stream cannot
// be resynchronised (nothing says where the next request starts), so the
// caller must send the error and close the connection; the Parser refuses
// further input until Reset.
//
// # Writing
//
// The Append functions (AppendSimple, AppendError, AppendInt, AppendBulk,
// AppendArrayLen, ...) append one reply element to a byte slice in the style
// of strconv.AppendInt, so a server builds every reply of a pipelined batch
// in one reused buffer and writes it with one system call. None of them
// allocates beyond growing that slice. Requests are the same in both
// protocol versions; replies differ only in the types RESP3 added, so the
// writers of those (AppendNull, AppendDouble, AppendMapLen, AppendSetLen,
// AppendVerbatim) take the connection's Proto and write the RESP2 form Redis
// uses for the same reply when the client has not asked for RESP3.
package resp
