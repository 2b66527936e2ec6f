package handler

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzProcess runs arbitrary bytes through a Session, whole and cut in two,
// on a server without a password and on one that requires fuzzPass, and
// checks that it never panics, never consumes more than it was given,
// always answers in well-formed RESP (client bytes quoted in errors must not
// forge replies), and answers the same wherever the input is cut.
func FuzzProcess(f *testing.F) {
	for _, seed := range []string{
		pipelineBatch(),
		multibulk("GET", "the") + inline("MGET", "a", "b"),
		multibulk("TAG", "LIMIT", "2", "Rare words like zymurgy stand out."),
		"*1\r\n$-2\r\n",
		"*2\r\n$3\r\nGET\r\n$9223372036854775807\r\n",
		"HELLO 3\r\nHELLO 2 SETNAME x\r\nCLIENT SETINFO lib-ver 1\r\n",
		"INFO table\r\nCOMMAND INFO get\r\nCONFIG GET *\r\n",
		"ECHO \"a\\x00\\r\\n\" '\\''\r\n",
		"GET the\r\nAUTH " + fuzzPass + "\r\nGET the\r\nAUTH wrong\r\nAUTH default " + fuzzPass + "\r\n",
		multibulk("HELLO", "2", "AUTH", "default", fuzzPass, "SETNAME", "x") + multibulk("CLIENT", "GETNAME"),
		"HELLO\r\nHELLO 3 AUTH default " + fuzzPass + "\r\n*11\r\n",
	} {
		f.Add([]byte(seed), uint16(7))
	}
	st := realTable(f)
	f.Fuzz(func(t *testing.T, in []byte, cut uint16) {
		for _, pass := range []string{"", fuzzPass} {
			// Separate handlers, so that counters and client ids in the
			// replies match between the two runs.
			handler := func() *Handler {
				h := New(st.table, Options{RequirePass: pass})
				return h
			}
			want, wantClosed := processChecked(t, handler().NewSession(), in)
			c := int(cut) % (len(in) + 1)
			got, gotClosed := processChecked(t, handler().NewSession(), in[:c], in[c:])
			if strings.Contains(want, "uptime_in_seconds") {
				continue // INFO's clock may tick between the runs
			}
			if got != want || gotClosed != wantClosed {
				t.Fatalf("password %q, cut at %d: got %q (closed %v), whole input gave %q (closed %v)", pass, c, got, gotClosed, want, wantClosed)
			}
		}
	})
}

// fuzzPass is the password of FuzzProcess's protected server; its seeds
// hold it, so that the fuzzer explores both sides of AUTH.
const fuzzPass = "Fz9-pass"

// processChecked is processChunks with the invariants checked on each call.
func processChecked(t *testing.T, s *Session, chunks ...[]byte) (string, bool) {
	var replies, pending []byte
	for _, c := range chunks {
		pending = append(pending[:len(pending):len(pending)], c...)
		for len(pending) > 0 {
			n, out, closeAfter := s.Process(pending, nil)
			if n < 0 || n > len(pending) {
				t.Fatalf("consumed %d of %d bytes", n, len(pending))
			}
			if rest, err := skipReplies(out); err != "" {
				t.Fatalf("malformed reply %q: %s at %q", out, err, rest)
			}
			replies = append(replies, out...)
			pending = pending[n:]
			if closeAfter {
				return string(replies), true
			}
			if n == 0 {
				break
			}
		}
	}
	return string(replies), false
}

// skipReplies walks a sequence of RESP2 and RESP3 replies and reports the
// first malformation. It is a reader independent of the resp package's
// writers.
func skipReplies(b []byte) ([]byte, string) {
	for len(b) > 0 {
		var err string
		if b, err = skipReply(b); err != "" {
			return b, err
		}
	}
	return nil, ""
}

func skipReply(b []byte) ([]byte, string) {
	line, rest, ok := strings.Cut(string(b), "\r\n")
	if !ok || len(line) == 0 {
		return b, "unterminated line"
	}
	if strings.ContainsAny(line, "\r\n") {
		return b, "line break inside a line"
	}
	rb := []byte(rest)
	switch line[0] {
	case '+', '-':
		return rb, ""
	case ':':
		if _, err := strconv.ParseInt(line[1:], 10, 64); err != nil {
			if _, err := strconv.ParseUint(line[1:], 10, 64); err != nil {
				return b, "bad integer"
			}
		}
		return rb, ""
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < -1 {
			return b, "bad bulk length"
		}
		if n == -1 {
			return rb, ""
		}
		if len(rb) < n+2 || string(rb[n:n+2]) != "\r\n" {
			return b, "bulk shorter than announced"
		}
		return rb[n+2:], ""
	case '_':
		if line != "_" {
			return b, "bad null"
		}
		return rb, ""
	case ',':
		switch line[1:] {
		case "inf", "-inf", "nan":
			return rb, ""
		}
		if _, err := strconv.ParseFloat(line[1:], 64); err != nil {
			return b, "bad double"
		}
		return rb, ""
	case '=':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 4 || len(rb) < n+2 || string(rb[n:n+2]) != "\r\n" || rb[3] != ':' {
			return b, "bad verbatim string"
		}
		return rb[n+2:], ""
	case '*', '~', '%':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < -1 || (n == -1 && line[0] != '*') {
			return b, "bad aggregate length"
		}
		if line[0] == '%' {
			n *= 2
		}
		for range n {
			var e string
			if rb, e = skipReply(rb); e != "" {
				return rb, e
			}
		}
		return rb, ""
	}
	return b, "unknown reply type"
}
