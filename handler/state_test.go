package handler

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
	"testing"
)

// TestSessionStateSurvivesAHandOver runs a session in one handler,
// carries its state to another (as a worker hands a connection to the next
// generation) and checks that the client is still authenticated, named and
// known by the same id there.
func TestSessionStateSurvivesAHandOver(t *testing.T) {
	st := realTable(t)
	old := New(st.table, Options{RequirePass: "sesame", ClientIDBase: 7 << 32})
	s := old.NewSession()
	out := run(s, []byte(inline("AUTH", "sesame")+inline("CLIENT", "SETNAME", "app-1")+
		inline("CLIENT", "SETINFO", "LIB-NAME", "go-redis")+inline("CLIENT", "SETINFO", "LIB-VER", "9.7")))
	if want := "+OK\r\n+OK\r\n+OK\r\n+OK\r\n"; out != want {
		t.Fatalf("setup replies %q, want %q", out, want)
	}
	state := s.AppendState(nil)
	s.Close()

	next := New(st.table, Options{RequirePass: "sesame", ClientIDBase: 9 << 32})
	r, err := next.ResumeSession(state)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out = run(r, []byte(inline("GET", "the")+inline("CLIENT", "GETNAME")+inline("CLIENT", "ID")))
	want := "$7\r\n1501908\r\n$5\r\napp-1\r\n:" + strconv.FormatUint(s.ID(), 10) + "\r\n"
	if out != want {
		t.Errorf("after the hand-over: %q, want %q", out, want)
	}
	if r.ID() != s.ID() || !bytes.Equal(r.libName, []byte("go-redis")) || !bytes.Equal(r.libVer, []byte("9.7")) {
		t.Errorf("resumed session id %d, lib %q %q", r.ID(), r.libName, r.libVer)
	}
}

// TestUnauthenticatedStateStaysUnauthenticated: a client that had not
// authenticated gets NOAUTH in the new process too.
func TestUnauthenticatedStateStaysUnauthenticated(t *testing.T) {
	st := realTable(t)
	old := New(st.table, Options{RequirePass: "sesame"})
	s := old.NewSession()
	state := s.AppendState(nil)
	s.Close()
	r, err := New(st.table, Options{RequirePass: "sesame"}).ResumeSession(state)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if out := run(r, []byte(inline("GET", "the"))); !strings.HasPrefix(out, "-NOAUTH") {
		t.Errorf("GET before AUTH after a hand-over: %q, want NOAUTH", out)
	}
}

// TestResumeSessionRefusesDamagedState: every truncation and a foreign
// version are refused, never half-applied.
func TestResumeSessionRefusesDamagedState(t *testing.T) {
	st := realTable(t)
	h := New(st.table, Options{})
	s := h.NewSession()
	run(s, []byte(inline("CLIENT", "SETNAME", "n")))
	state := s.AppendState(nil)
	s.Close()
	for i := 0; i < len(state); i++ {
		if r, err := h.ResumeSession(state[:i]); err == nil {
			r.Close()
			t.Errorf("state cut to %d of %d bytes was accepted", i, len(state))
		}
	}
	if _, err := h.ResumeSession(append([]byte{'S', 99}, state[2:]...)); err == nil {
		t.Error("state of version 99 was accepted")
	}
	if _, err := h.ResumeSession(append(state, 0)); err == nil {
		t.Error("state with a trailing byte was accepted")
	}
	if got := h.Stats().ConnectedClients; got != 0 {
		t.Errorf("%d sessions counted after refusals, want 0", got)
	}
}

func TestClientNamesAreBounded(t *testing.T) {
	h := New(realTable(t).table, Options{})
	s := h.NewSession()
	defer s.Close()
	out := run(s, []byte(inline("CLIENT", "SETNAME", strings.Repeat("n", maxLabel+1))))
	if !strings.Contains(out, "cannot be longer than 512 bytes") {
		t.Errorf("overlong name: %q", out)
	}
}

// run feeds one chunk to s and returns its replies.
func run(s *Session, in []byte) string {
	out, _ := processChunks(s, in)
	return out
}

// TestStateCarriesTheProtocol: a RESP3 client handed to another process
// keeps getting RESP3, and a version 1 state (an older binary's, during an
// upgrade) still resumes, in RESP2.
func TestStateCarriesTheProtocol(t *testing.T) {
	st := realTable(t)
	old := New(st.table, Options{})
	s := old.NewSession()
	processChunks(s, []byte(inline("HELLO", "3", "SETNAME", "r3")))
	state := s.AppendState(nil)
	s.Close()

	next := New(st.table, Options{})
	r, err := next.ResumeSession(state)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := processChunks(r, []byte(inline("GET", "zzxqvjk")+inline("CLIENT", "GETNAME"))); got != null3+bulk("r3") {
		t.Errorf("resumed RESP3 session: %q", got)
	}
	r.Close()
	if st := next.Stats(); st.Connections != 0 {
		t.Errorf("a handed-over connection counted as %d received, want 0", st.Connections)
	}

	// Version 1: 'S', 1, id, flags, then three labels.
	v1 := []byte{'S', 1}
	v1 = binary.AppendUvarint(v1, 77)
	v1 = binary.AppendUvarint(v1, 0)
	for _, label := range []string{"n1", "", ""} {
		v1 = binary.AppendUvarint(v1, uint64(len(label)))
		v1 = append(v1, label...)
	}
	r, err = next.ResumeSession(v1)
	if err != nil {
		t.Fatalf("version 1 state: %v", err)
	}
	defer r.Close()
	if got, _ := processChunks(r, []byte(inline("GET", "zzxqvjk")+inline("CLIENT", "GETNAME")+inline("CLIENT", "ID"))); got != nilBulk+bulk("n1")+integer(77) {
		t.Errorf("resumed version 1 session: %q", got)
	}

	// A protocol this code does not know is refused.
	bad := append([]byte{'S', stateVersion}, binary.AppendUvarint(nil, 5)...)
	bad = binary.AppendUvarint(bad, 0)
	bad = binary.AppendUvarint(bad, 4)
	bad = append(bad, 0, 0, 0)
	if r, err := next.ResumeSession(bad); err == nil {
		r.Close()
		t.Error("a state with protocol 4 was accepted")
	}
}
