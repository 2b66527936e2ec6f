package fdpass

import (
	"errors"
	"slices"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cmsg builds one control message with the given header length, padded to
// the kernel's alignment unless the length says otherwise.
func cmsg(level, typ int32, hdrLen int, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(hdrLen)
	copy(b[unix.CmsgLen(0):], data)
	return b
}

// The descriptor numbers here are parsed, never closed: they are not ours.
func TestParseRights(t *testing.T) {
	rights := func(fds ...int) []byte { return unix.UnixRights(fds...) }
	creds := cmsg(unix.SOL_SOCKET, unix.SCM_CREDENTIALS, unix.CmsgLen(12), make([]byte, 12))
	tests := []struct {
		name    string
		oob     []byte
		want    []int
		wantErr bool
	}{
		{"no control data", nil, nil, false},
		{"one descriptor", rights(7), []int{7}, false},
		{"several descriptors", rights(3, 1000, 42), []int{3, 1000, 42}, false},
		{"two messages", slices.Concat(rights(5), rights(6, 8)), []int{5, 6, 8}, false},
		// The kernel cuts the last message's padding when the buffer ends.
		{"unpadded last message", rights(9)[:unix.CmsgLen(4)], []int{9}, false},
		{"short trailing bytes", slices.Concat(rights(4), make([]byte, 5)), []int{4}, true},
		{"header length below header size", cmsg(unix.SOL_SOCKET, unix.SCM_RIGHTS, 3, nil), nil, true},
		{"header length past the buffer", cmsg(unix.SOL_SOCKET, unix.SCM_RIGHTS, 1<<20, make([]byte, 4)), nil, true},
		{"garbled message after descriptors", slices.Concat(rights(11), cmsg(unix.SOL_SOCKET, unix.SCM_RIGHTS, 2, nil)), []int{11}, true},
		{"credentials before descriptors", slices.Concat(creds, rights(12)), []int{12}, true},
		{"partial descriptor", cmsg(unix.SOL_SOCKET, unix.SCM_RIGHTS, unix.CmsgLen(6), []byte{13, 0, 0, 0, 1, 2}), []int{13}, true},
	}
	for i, tc := range tests {
		got, err := parseRights(tc.oob)
		if !slices.Equal(got, tc.want) {
			t.Errorf("case %d (%s): descriptors %v, want %v", i, tc.name, got, tc.want)
		}
		if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, ErrBadControlMessage)) {
			t.Errorf("case %d (%s): error %v, want error: %v", i, tc.name, err, tc.wantErr)
		}
	}
}

// parseRights reads what the kernel wrote; whatever the bytes, it must not
// read outside them or report more descriptors than they can hold.
func FuzzParseRights(f *testing.F) {
	f.Add(unix.UnixRights(1, 2, 3))
	f.Add(slices.Concat(unix.UnixRights(4), unix.UnixRights(5)))
	f.Add(unix.UnixRights(6)[:unix.CmsgLen(4)])
	f.Add(cmsg(unix.SOL_SOCKET, unix.SCM_RIGHTS, 2, nil))
	f.Fuzz(func(t *testing.T, oob []byte) {
		fds, err := parseRights(oob)
		if len(fds) > len(oob)/fdSize {
			t.Fatalf("%d descriptors from %d bytes", len(fds), len(oob))
		}
		if err == nil && len(oob) > 0 && len(fds) == 0 {
			// Only empty SCM_RIGHTS messages parse cleanly without
			// descriptors; check that is what this was.
			hdr, _, _, perr := unix.ParseOneSocketControlMessage(oob)
			if perr != nil || hdr.Type != unix.SCM_RIGHTS {
				t.Fatalf("no error and no descriptors from %x", oob)
			}
		}
	})
}
