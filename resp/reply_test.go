package resp

import (
	"bufio"
	"errors"
	"strings"
	"testing"
)

func TestReadReplyReadsOneWholeReply(t *testing.T) {
	replies := []string{
		"+OK\r\n", "-ERR no\r\n", ":42\r\n", "$-1\r\n", "$0\r\n\r\n", "$5\r\nhel\r\n\r\n",
		"*2\r\n$1\r\na\r\n*1\r\n:1\r\n", "*-1\r\n", "_\r\n", ",3.5\r\n", "#t\r\n", "(123\r\n",
		"%1\r\n+k\r\n:1\r\n", "~2\r\n+a\r\n+b\r\n", "=8\r\ntxt:abcd\r\n", "!3\r\nerr\r\n",
		"|1\r\n+key\r\n+val\r\n:7\r\n", ">2\r\n+m\r\n+x\r\n",
	}
	r := bufio.NewReader(strings.NewReader(strings.Join(replies, "")))
	for i, want := range replies {
		got, err := ReadReply(r)
		if err != nil || string(got) != want {
			t.Errorf("reply %d: %q, %v; want %q", i, got, err, want)
		}
	}
}

func TestReadReplyRefusesWhatIsNotAReply(t *testing.T) {
	for _, in := range []string{
		"?\r\n", "$3\r\nabcd\r\n", "$007\r\nabcdefg\r\n", "$-0\r\n", "*-2\r\n", "OK\n", "\r\n",
		"$99999999999999999999\r\n", "%-1\r\n",
		strings.Repeat("*1\r\n", MaxReplyDepth+1) + ":1\r\n",
	} {
		_, err := ReadReply(bufio.NewReader(strings.NewReader(in)))
		if !errors.Is(err, ErrReply) {
			t.Errorf("%q: %v, want a malformed-reply error", in, err)
		}
	}
	// A stream that ends inside a reply is an I/O error, not a reply.
	if _, err := ReadReply(bufio.NewReader(strings.NewReader("$5\r\nab"))); err == nil {
		t.Error("a truncated bulk string was read as a reply")
	}
}

func TestSkipReplyKeepsTheStreamInStep(t *testing.T) {
	r := bufio.NewReader(strings.NewReader("*2\r\n$3\r\nabc\r\n:1\r\n+NEXT\r\n"))
	header, err := ReadLine(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := SkipReply(r, header); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadReply(r); string(got) != "+NEXT\r\n" || err != nil {
		t.Errorf("after the skip: %q, %v", got, err)
	}
}
