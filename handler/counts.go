package handler

// CommandNames lists the commands freqd has, in lower case, in the order
// CommandCounts reports them; the order is fixed for a given binary.
func CommandNames() []string {
	names := make([]string, numCommands)
	for i := range commandTable {
		names[i] = commandTable[i].name
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
