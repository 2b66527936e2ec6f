package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/freqd/freqd/ingest"
	"golang.org/x/sys/unix"
)

// buildProgress draws a progress line on a terminal for builds that last:
// nothing for the first second (a quick build stays quiet), then the phase,
// the bytes read (as a bar when the total is known) and the words counted,
// redrawn a few times a second. It draws nothing when stderr is not a
// terminal, so logs and pipes stay clean.
type buildProgress struct {
	c     *ingest.Counter
	total int64 // input bytes, or -1 if unknown
	start time.Time

	mu      sync.Mutex
	halted  bool // stop has run: draw nothing more
	drawn   bool // a line is on screen and must be cleared
	done    chan struct{}
	stopped sync.Once
}

const (
	progressDelay    = time.Second
	progressInterval = 200 * time.Millisecond
	progressBarWidth = 30
)

func startBuildProgress(c *ingest.Counter, total int64) *buildProgress {
	p := &buildProgress{c: c, total: total, start: time.Now(), done: make(chan struct{})}
	if isTerminal(os.Stderr) {
		go p.run()
	}
	return p
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func (p *buildProgress) run() {
	select {
	case <-time.After(progressDelay):
	case <-p.done:
		return
	}
	t := time.NewTicker(progressInterval)
	defer t.Stop()
	for {
		p.draw()
		select {
		case <-t.C:
		case <-p.done:
			return
		}
	}
}

// stop ends the display and clears the line, so the final message starts on
// a clean line.
func (p *buildProgress) stop() {
	p.stopped.Do(func() {
		close(p.done)
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.drawn {
			fmt.Fprint(os.Stderr, "\r\033[K")
		}
		p.halted = true // a draw already past its select draws nothing
	})
}

func (p *buildProgress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.halted {
		return
	}
	elapsed := time.Since(p.start).Round(time.Second)
	read := p.c.BytesRead()
	words := groupDigits(uint64(max(p.c.Words(), 0)))
	var line string
	switch phase := p.c.Phase(); {
	case phase != "reading":
		line = fmt.Sprintf("%s %s words... %s", phase, words, elapsed)
	case p.total > 0:
		frac := min(float64(read)/float64(p.total), 1)
		n := int(frac * progressBarWidth)
		line = fmt.Sprintf("reading [%s%s] %3.0f%% %s of %s, %s words, %s",
			strings.Repeat("=", n), strings.Repeat(" ", progressBarWidth-n), frac*100,
			humanBytes(read), humanBytes(p.total), words, elapsed)
	default:
		line = fmt.Sprintf("reading %s, %s words, %s", humanBytes(read), words, elapsed)
	}
	fmt.Fprintf(os.Stderr, "\r\033[K%s", line)
	p.drawn = true
}
