package fdpass

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// MaxFDs is the most descriptors one message can carry: the kernel's
// SCM_MAX_FD. The kernel refuses larger messages with EINVAL; Send and SendFd
// refuse them before any system call, with an error that says why.
const MaxFDs = 253

// fdSize is the size of one descriptor in SCM_RIGHTS data: a C int.
const fdSize = 4

// encodeRights checks a message about to be sent and returns its control
// data: nil when there are no descriptors, so no empty SCM_RIGHTS header
// travels.
func encodeRights(payload []byte, fds []int) ([]byte, error) {
	if len(payload) == 0 {
		return nil, fmt.Errorf("%w: send at least one byte with the descriptors, or the receiver cannot tell the message from the peer's EOF", ErrEmptyPayload)
	}
	if len(fds) > MaxFDs {
		return nil, fmt.Errorf("%w: %d given, the kernel accepts at most %d (SCM_MAX_FD); send them in several messages", ErrTooManyFDs, len(fds), MaxFDs)
	}
	for i, fd := range fds {
		if fd < 0 {
			return nil, fmt.Errorf("fdpass: descriptor %d of the message is %d, not an open descriptor", i, fd)
		}
	}
	if len(fds) == 0 {
		return nil, nil
	}
	return unix.UnixRights(fds...), nil
}

// controlSpace returns the size of a control buffer that holds maxFDs
// descriptors. Zero makes the kernel drop any descriptor sent (and flag the
// message MSG_CTRUNC), which is what a receiver of plain messages wants.
func controlSpace(maxFDs int) int {
	if maxFDs == 0 {
		return 0
	}
	return unix.CmsgSpace(maxFDs * fdSize)
}

// parseRights returns every descriptor in the SCM_RIGHTS messages of oob, the
// control data of one received message. The kernel has already installed those
// descriptors in this process, so parseRights returns the ones it found even
// alongside an error, and the caller must close them: a malformed tail must
// not leak the descriptors before it.
func parseRights(oob []byte) (fds []int, err error) {
	for len(oob) > 0 {
		// ParseOneSocketControlMessage reads a whole header from oob without
		// checking that it is there.
		if len(oob) < unix.CmsgLen(0) {
			return fds, fmt.Errorf("%w: %d trailing bytes are too short for a header", ErrBadControlMessage, len(oob))
		}
		hdr, data, rest, perr := unix.ParseOneSocketControlMessage(oob)
		if perr != nil {
			return fds, fmt.Errorf("%w: header length %d does not fit the %d bytes left", ErrBadControlMessage, hdr.Len, len(oob))
		}
		oob = rest
		if hdr.Level != unix.SOL_SOCKET || hdr.Type != unix.SCM_RIGHTS {
			// Keep walking: an SCM_RIGHTS message may follow.
			err = fmt.Errorf("%w: level %d type %d is not SCM_RIGHTS", ErrBadControlMessage, hdr.Level, hdr.Type)
			continue
		}
		if len(data)%fdSize != 0 {
			err = fmt.Errorf("%w: SCM_RIGHTS data of %d bytes is not a whole number of descriptors", ErrBadControlMessage, len(data))
		}
		for ; len(data) >= fdSize; data = data[fdSize:] {
			fds = append(fds, int(int32(binary.NativeEndian.Uint32(data))))
		}
	}
	return fds, err
}

// closeFDs closes descriptors this process received but will not hand out.
// A failed close leaves nothing to do, so its error is dropped.
func closeFDs(fds []int) {
	for _, fd := range fds {
		_ = unix.Close(fd)
	}
}
