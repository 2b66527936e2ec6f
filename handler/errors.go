package handler

import (
	"strings"

	"github.com/freqd/freqd/resp"
)

// Error replies shared by several commands, in Redis's words.
const (
	errNotInteger = "ERR value is not an integer or out of range"
	errSyntax     = "ERR syntax error"
)

// appendUnknownCommand appends Redis 7's reply to a command it does not
// have, which quotes the name and the first arguments, 128 bytes at most.
func appendUnknownCommand(out []byte, args [][]byte) []byte {
	var msg strings.Builder
	msg.WriteString("ERR unknown command '")
	msg.Write(clip(args[0], 128))
	msg.WriteString("', with args beginning with: ")
	quoted := 0
	for _, a := range args[1:] {
		if quoted >= 128 {
			break
		}
		a = clip(a, 128-quoted)
		msg.WriteByte('\'')
		msg.Write(a)
		msg.WriteString("' ")
		quoted += len(a) + 3
	}
	return resp.AppendError(out, msg.String())
}

// appendArityError appends the reply to a command given the wrong number
// of arguments.
func appendArityError(out []byte, name string) []byte {
	return resp.AppendError(out, "ERR wrong number of arguments for '"+name+"' command")
}

// appendUnknownSubcommand appends the reply to CLIENT, COMMAND or CONFIG
// with a subcommand freqd does not have.
func appendUnknownSubcommand(out []byte, cmd string, sub []byte) []byte {
	return resp.AppendError(out, "ERR unknown subcommand '"+string(clip(sub, 128))+"'. Try "+strings.ToUpper(cmd)+" HELP.")
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
