package resp

// Limits bound what one request may hold. A request beyond any bound is a
// protocol error, detected as soon as the offending header or line arrives,
// before its payload is buffered. The zero value of a field means its default.
type Limits struct {
	// MaxInlineLen bounds an inline request line, end of line excluded.
	// Redis allows 64 KiB; a line that long without an end is a client that
	// is not speaking RESP (or an attack), not a long command.
	MaxInlineLen int

	// MaxBulkLen bounds one multibulk argument. Redis allows 512 MiB; a word
	// server's longest honest argument is a TAG text, so 1 MiB by default.
	MaxBulkLen int

	// MaxArgs bounds the arguments of one multibulk request. Redis allows
	// 1M; freqd's widest command is an MGET or FREQ of many words.
	MaxArgs int

	// MaxRequestLen bounds the total bytes of one request, headers included,
	// so that MaxArgs arguments of MaxBulkLen each cannot add up to
	// gigabytes. A connection's read buffer never needs to grow beyond it.
	MaxRequestLen int

	// UnauthMaxArgs and UnauthMaxBulkLen bound a multibulk request further
	// while the Parser is Unauthenticated. Redis allows a client that has not
	// authenticated 10 arguments of 16 KiB: plenty for AUTH and HELLO, too
	// little for someone without the password to make the server buffer
	// megabytes per connection.
	UnauthMaxArgs    int
	UnauthMaxBulkLen int
}

// Default limits, used for any field of Limits left zero.
const (
	DefaultMaxInlineLen  = 64 << 10
	DefaultMaxBulkLen    = 1 << 20
	DefaultMaxArgs       = 64 << 10
	DefaultMaxRequestLen = 8 << 20

	DefaultUnauthMaxArgs    = 10
	DefaultUnauthMaxBulkLen = 16 << 10
)

// Effective returns l as a Parser applies it: every zero field replaced by
// its default. Servers use it to size their read buffers.
func (l Limits) Effective() Limits {
	if l.MaxInlineLen <= 0 {
		l.MaxInlineLen = DefaultMaxInlineLen
	}
	if l.MaxBulkLen <= 0 {
		l.MaxBulkLen = DefaultMaxBulkLen
	}
	if l.MaxArgs <= 0 {
		l.MaxArgs = DefaultMaxArgs
	}
	if l.MaxRequestLen <= 0 {
		l.MaxRequestLen = DefaultMaxRequestLen
	}
	if l.UnauthMaxArgs <= 0 {
		l.UnauthMaxArgs = DefaultUnauthMaxArgs
	}
	if l.UnauthMaxBulkLen <= 0 {
		l.UnauthMaxBulkLen = DefaultUnauthMaxBulkLen
	}
	return l
}
