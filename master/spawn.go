package master

import (
	"os/exec"
	"runtime"
)

// spawner starts every worker from one goroutine locked to its OS thread for
// the master's whole life. Pdeathsig fires when the *thread* that forked the
// child exits, and Go retires threads at will (golang/go#27505); starting
// children from a thread that never exits makes Pdeathsig mean "the master
// died". It is the second lifeline: EOF on the control socket is the first.
type spawner struct {
	reqs chan spawnReq
}

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq)}
	go s.loop()
	return s
}

func (s *spawner) loop() {
	runtime.LockOSThread()
	// Never unlocked and never returns: when a locked goroutine exits, Go
	// terminates its thread, and every worker would get its Pdeathsig.
	for r := range s.reqs {
		r.done <- r.cmd.Start()
	}
	select {}
}

// start runs cmd.Start on the spawner's thread.
func (s *spawner) start(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	s.reqs <- spawnReq{cmd: cmd, done: done}
	return <-done
}
