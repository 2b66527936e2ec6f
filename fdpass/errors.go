package fdpass

import "errors"

// Errors a caller may want to tell apart with errors.Is. The errors returned
// wrap them with the details of the failed call.
var (
	// ErrEmptyPayload means a message had, or would have had, no payload
	// byte; see the package documentation for why one is required.
	ErrEmptyPayload = errors.New("fdpass: message has an empty payload")

	// ErrTooManyFDs means a message carried more descriptors than allowed:
	// more than MaxFDs on sending, more than the receiver's maxFDs on
	// receiving.
	ErrTooManyFDs = errors.New("fdpass: too many descriptors in one message")

	// ErrTruncated means a received payload was longer than the buffer and
	// its tail was discarded by the kernel.
	ErrTruncated = errors.New("fdpass: message payload truncated")

	// ErrDescriptorLimit means the receiver reached its descriptor limit
	// (RLIMIT_NOFILE) while the kernel installed a message's descriptors:
	// the kernel closed the ones that did not fit, and the sender's
	// connections among them are lost. It is the one error with which
	// descriptors are returned: those that did arrive, which the caller
	// owns and should serve.
	ErrDescriptorLimit = errors.New("fdpass: descriptor limit reached while receiving")

	// ErrBadControlMessage means the ancillary data of a received message
	// was malformed or of a kind other than SCM_RIGHTS.
	ErrBadControlMessage = errors.New("fdpass: malformed control message")
)
