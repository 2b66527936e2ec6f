package handler

// CommandNames lists the commands and subcommands freqd has, in lower case
// ("get", "client|setname"), in the order CommandCounts reports them; the
// order is fixed for a given binary.
func CommandNames() []string {
	names := make([]string, len(commandList))
	for i, c := range commandList {
		names[i] = c.name
	}
	return names
}

// CommandCounts appends to dst how many times each command has been
// called, in CommandNames order: one slice per scoreboard heartbeat, no map.
func (h *Handler) CommandCounts(dst []uint64) []uint64 {
	for i := range h.calls {
		dst = append(dst, h.calls[i].Load())
	}
	return dst
}
