package compare

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/procstat"
	"github.com/freqd/freqd/loadgen"
)

// Bounds of the measurement around each design.
const (
	infoTimeout = 2 * time.Second
	// pssInterval is how often memory is sampled during the load: reading
	// smaps_rollup walks a process's mappings, so often enough to see the
	// peak, seldom enough not to load the server.
	pssInterval = 250 * time.Millisecond
	// settle separates two designs, so that one's exit does not overlap
	// the next one's load.
	settle = 200 * time.Millisecond
)

// Run starts each design of cfg.Modes in turn, loads it, stops it and
// reports what it measured. A design that fails to start or to be measured
// gets its error in its Result and the others still run; Run itself fails
// only on a configuration that cannot work. When ctx is cancelled, the
// design under load is stopped and Run returns what it has, with
// Report.Interrupted set.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	lc := cfg.load("127.0.0.1:1") // the address is checked per design; the rest now
	if err := lc.Validate(); err != nil {
		return nil, err
	}
	if cfg.Seed == 0 {
		// One seed for every design: they all get the same keys.
		cfg.Seed = rand.Uint64N(1 << 53)
	}
	rep := newReport(&cfg)
	for i, m := range cfg.Modes {
		if ctx.Err() != nil {
			rep.Interrupted = true
			break
		}
		if i > 0 {
			time.Sleep(settle)
		}
		cfg.Logger.Info("measuring", "mode", m, "duration", cfg.Duration, "scenario", cfg.Scenario())
		r := measure(ctx, &cfg, m)
		if r.Error != "" {
			cfg.Logger.Warn("design not measured", "mode", m, "error", r.Error)
		} else {
			cfg.Logger.Info("measured", "mode", m, "throughput_rps", int(r.Load.Throughput), "failed", r.Load.Failed)
		}
		if r.Load != nil && r.Load.Interrupted {
			rep.Interrupted = true
		}
		rep.Results = append(rep.Results, r)
	}
	return rep, nil
}

// measure runs one design under the load of cfg.
func measure(ctx context.Context, cfg *Config, m mode.Mode) (r Result) {
	r = Result{Mode: m, PreForked: m.IsPreForked()}
	srv, err := startServer(cfg.Binary, m, cfg.DataPath, cfg.Workers)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer func() {
		killed, err := srv.stop()
		r.StopKilled = killed
		if err != nil && r.Error == "" {
			r.Error = err.Error()
		}
	}()

	var before workersInfo
	if r.PreForked {
		if before, err = readWorkers(srv.addr, infoTimeout); err != nil {
			r.Error = err.Error()
			return r
		}
	}
	cpu0, err := treeCPU(srv.pid())
	if err != nil {
		r.Error = err.Error()
		return r
	}

	bg, stopBG := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var mem memSampler
	wg.Go(func() { mem.run(bg, srv) })
	var k *killer
	if cfg.KillEvery > 0 && r.PreForked {
		k = &killer{srv: srv, every: cfg.KillEvery, rng: rand.New(rand.NewPCG(cfg.Seed, uint64(len(m))))}
		wg.Go(func() { k.run(bg) })
	}
	res, err := loadgen.Run(ctx, cfg.load(srv.addr))
	stopBG()
	wg.Wait()
	if err != nil {
		r.Error = fmt.Sprintf("load %s: %v", m, err)
		return r
	}
	r.Load = res
	cpu1, err := treeCPU(srv.pid())
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.ServerCPU = float64(cpu1-cpu0) * procstat.ClockTick
	if res.OK > 0 {
		r.CPUPerRequest = r.ServerCPU / float64(res.OK) * 1e6
	}
	r.PSS, r.Processes = mem.peak()
	if k != nil {
		r.Chaos = k.result(res.Failed)
	}
	if r.PreForked {
		after, err := readWorkers(srv.addr, infoTimeout)
		if err != nil {
			r.Error = err.Error()
			return r
		}
		r.Spread = spread(before, after)
	}
	return r
}

// memSampler keeps the peak PSS of a server during a load.
type memSampler struct {
	mu    sync.Mutex
	bytes uint64
	procs int
}

func (m *memSampler) run(ctx context.Context, srv *server) {
	t := time.NewTicker(pssInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		tree := srv.observe()
		if len(tree) == 0 {
			continue
		}
		b, n := treePSS(tree)
		m.mu.Lock()
		if b > m.bytes {
			m.bytes, m.procs = b, n
		}
		m.mu.Unlock()
	}
}

func (m *memSampler) peak() (uint64, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bytes, m.procs
}
