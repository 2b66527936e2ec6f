// Package childproc builds the processes freqd starts with descriptors of
// its own: the master's workers, its successor on a binary upgrade, the
// fork design's connection processes. Each is the same binary re-executed
// (Go cannot fork a running runtime), told what it is by a JSON spec in
// its environment, and given descriptors through exec.Cmd.ExtraFiles.
//
// A Builder registers each file once, says which descriptor number the
// child will see it under, and releases every file it was told to close
// after the start by one loop, on success and on every error, as
// os/exec's own Cmd does with closeAfterStart.
package childproc

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
)

// Builder is a child process being put together.
type Builder struct {
	// Cmd is the command; set its Env, Args, SysProcAttr and outputs
	// directly. ExtraFiles belongs to the Builder.
	Cmd *exec.Cmd

	closeAfter []*os.File
	started    bool
}

// New prepares a command running path with args (args[0] is argv[0], what
// the child is shown as in ps).
func New(path string, args ...string) *Builder {
	cmd := &exec.Cmd{Path: path, Args: args}
	return &Builder{Cmd: cmd}
}

// Add gives f to the child and returns the descriptor number the child
// sees it under. If closeAfterStart is set, f is this process's copy made
// for the child, and the Builder closes it once the child has started or
// failed to.
func (b *Builder) Add(f *os.File, closeAfterStart bool) int {
	b.Cmd.ExtraFiles = append(b.Cmd.ExtraFiles, f)
	if closeAfterStart {
		b.closeAfter = append(b.closeAfter, f)
	}
	return 2 + len(b.Cmd.ExtraFiles)
}

// AddNew is Add(f, true) for the result of a function that makes f,
// passing its error on; on error nothing is added.
func (b *Builder) AddNew(f *os.File, err error) (int, error) {
	if err != nil {
		return -1, err
	}
	return b.Add(f, true), nil
}

// SetSpec puts spec, as JSON, in the child's environment under name.
func (b *Builder) SetSpec(name string, spec any) error {
	j, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	b.Cmd.Env = append(b.Cmd.Env, name+"="+string(j))
	return nil
}

// Start starts the child with start (exec.Cmd.Start, or one that runs it
// on a particular thread), then closes the files registered to be closed
// after the start, whether or not it succeeded.
func (b *Builder) Start(start func(*exec.Cmd) error) error {
	if b.started {
		return fmt.Errorf("childproc: %s started twice", b.Cmd.Path)
	}
	b.started = true
	err := start(b.Cmd)
	b.release()
	return err
}

// Abort releases what was registered, for a child that will not be
// started after all.
func (b *Builder) Abort() {
	b.started = true
	b.release()
}

func (b *Builder) release() {
	for _, f := range b.closeAfter {
		f.Close()
	}
	b.closeAfter = nil
}

// ReadSpec reads the spec a parent put in this process's environment under
// name into spec, with a clear error when this process was not started by
// such a parent (what would start it is named by startedBy).
func ReadSpec(name, startedBy string, spec any) error {
	v := os.Getenv(name)
	if v == "" {
		return fmt.Errorf("%s is not set: this process is started by %s, not by hand", name, startedBy)
	}
	if err := json.Unmarshal([]byte(v), spec); err != nil {
		return fmt.Errorf("%s: %w (parent and child binaries differ?)", name, err)
	}
	return nil
}
