package master

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/internal/version"
	"github.com/freqd/freqd/listen"
)

// Metrics are served by the master (--metrics-listen), through the
// Prometheus client library. Per-worker figures come from the scoreboard,
// which HTTP goroutines may read at any time; the master's own figures
// (restarts, reloads, the pool) belong to its Run goroutine, which publishes
// a copy after every event for the collector to read.

// masterStats is the copy of the Run goroutine's state the collector reads;
// the collector reads nothing else of the master but the scoreboard, whose
// fields are atomics.
type masterStats struct {
	generation    uint64
	workers       int
	restarts      map[string]uint64
	reloads       uint64
	failedReloads uint64
	words         uint64
	tableBytes    int64
	handoffs      int
	queues        []*listen.Socket // a copy: the Run goroutine changes the pool's
	ready         bool             // what /readyz answers
	notReady      string           // why not
	table         tableIdentity
}

// publish copies the supervisor state for the metrics collector.
func (m *Master) publish() {
	if m.metrics == nil {
		return
	}
	ps := m.model.Stats()
	st := &masterStats{generation: ps.Generation, workers: ps.Workers, restarts: ps.Restarts,
		reloads: ps.Reloads, failedReloads: ps.FailedReloads, handoffs: len(m.handoffs), queues: m.tcpSockets()}
	if t := m.current(); t != nil {
		st.words, st.tableBytes = t.Table.Len(), t.Table.Size()
		st.table = identify(t.Table)
	}
	st.ready, st.notReady = m.model.Ready()
	m.metrics.stats.Store(st)
}

// metricsServer is the HTTP endpoint and the collector behind it.
type metricsServer struct {
	ln    net.Listener
	srv   *http.Server
	stats atomic.Pointer[masterStats]
	m     *Master // for the scoreboard only
	done  chan struct{}
}

func (m *Master) startMetrics(ln net.Listener) {
	ms := &metricsServer{ln: ln, m: m, done: make(chan struct{})}
	reg := prometheus.NewRegistry()
	reg.MustRegister(ms, buildInfo(), prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: m.log.StandardLogger(nil)}))
	mux.HandleFunc("/livez", ms.livez)
	mux.HandleFunc("/readyz", ms.readyz)
	ms.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second}
	m.metrics = ms
	m.publish()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(ms.done)
		if err := ms.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("metrics server stopped", "error", err)
		}
	}()
}

// close stops the server and waits for its goroutine.
func (ms *metricsServer) close() {
	ms.srv.Close()
	<-ms.done
}

// buildInfo is freqd_build_info, a gauge of 1 whose labels say which
// freqd the master is, in the Prometheus convention: dashboards join on
// it, and a change of its labels marks an upgrade (SIGUSR2) on a graph.
func buildInfo() prometheus.Collector {
	v := version.Get()
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "freqd_build_info",
		Help: "Which freqd the master runs: 1, labelled by version, revision, build date and Go version.",
		ConstLabels: prometheus.Labels{"version": v.Version, "revision": v.Commit, "builddate": v.Date,
			"goversion": v.Go},
	})
	g.Set(1)
	return g
}

var (
	descRequests       = prometheus.NewDesc("freqd_commands_total", "Commands served, by worker slot and command.", []string{"worker", "command"}, nil)
	descErrors         = prometheus.NewDesc("freqd_error_replies_total", "Error replies sent, by worker slot.", []string{"worker"}, nil)
	descAccepted       = prometheus.NewDesc("freqd_connections_accepted_total", "Connections taken, by worker slot.", []string{"worker"}, nil)
	descOpen           = prometheus.NewDesc("freqd_connections_open", "Connections open, by worker slot.", []string{"worker"}, nil)
	descState          = prometheus.NewDesc("freqd_worker_state", "1 for the state each worker slot is in.", []string{"worker", "state"}, nil)
	descBeat           = prometheus.NewDesc("freqd_worker_heartbeat_age_seconds", "Time since each worker's last heartbeat.", []string{"worker"}, nil)
	descRestarts       = prometheus.NewDesc("freqd_worker_restarts_total", "Workers replaced, by cause.", []string{"cause"}, nil)
	descReloads        = prometheus.NewDesc("freqd_reloads_total", "Reloads (SIGHUP), by result.", []string{"result"}, nil)
	descWorkers        = prometheus.NewDesc("freqd_workers", "Size of the worker pool.", nil, nil)
	descGen            = prometheus.NewDesc("freqd_generation", "Generation of the worker pool (one more per reload).", nil, nil)
	descWords          = prometheus.NewDesc("freqd_table_words", "Words in the served table.", nil, nil)
	descBytes          = prometheus.NewDesc("freqd_table_bytes", "Size of the served table.", nil, nil)
	descAcceptQueue    = prometheus.NewDesc("freqd_accept_queue_length", "Connections waiting in a TCP listener's accept queue (TCP_INFO).", []string{"listen", "socket"}, nil)
	descAcceptQueueMax = prometheus.NewDesc("freqd_accept_queue_limit", "Accept queue limit (backlog) of a TCP listener.", []string{"listen", "socket"}, nil)
	descHandoffs       = prometheus.NewDesc("freqd_handoffs_waiting", "Handed-back connections waiting for a worker.", nil, nil)
	descDgramDropped   = prometheus.NewDesc("freqd_datagram_replies_dropped_total", "Datagram replies dropped for want of room at the client (not reading?), by worker slot.", []string{"worker"}, nil)
	descDgramRefused   = prometheus.NewDesc("freqd_datagram_replies_refused_total", "UDP replies to unauthenticated requests refused as over 3x the request (amplification), by worker slot.", []string{"worker"}, nil)
)

// Describe implements prometheus.Collector.
func (ms *metricsServer) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descErrors, descAccepted, descOpen, descState, descBeat,
		descRestarts, descReloads, descWorkers, descGen, descWords, descBytes, descAcceptQueue, descAcceptQueueMax, descHandoffs,
		descDgramDropped, descDgramRefused} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (ms *metricsServer) Collect(ch chan<- prometheus.Metric) {
	names := handler.CommandNames()
	sb := ms.m.board
	var counts []uint64
	for i := 0; i < sb.Len(); i++ {
		s := sb.Snapshot(i)
		if s.PID == 0 {
			continue
		}
		w := strconv.Itoa(i)
		counts = sb.CommandCounts(i, counts[:0])
		for c, name := range names {
			if c < len(counts) {
				ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(counts[c]), w, name)
			}
		}
		ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(s.Errors), w)
		ch <- prometheus.MustNewConstMetric(descAccepted, prometheus.CounterValue, float64(s.Accepted), w)
		ch <- prometheus.MustNewConstMetric(descOpen, prometheus.GaugeValue, float64(s.Open), w)
		ch <- prometheus.MustNewConstMetric(descState, prometheus.GaugeValue, 1, w, s.State.String())
		ch <- prometheus.MustNewConstMetric(descBeat, prometheus.GaugeValue, sb.HeartbeatAge(i).Seconds(), w)
		ch <- prometheus.MustNewConstMetric(descDgramDropped, prometheus.CounterValue, float64(s.DatagramDropped), w)
		ch <- prometheus.MustNewConstMetric(descDgramRefused, prometheus.CounterValue, float64(s.DatagramRefused), w)
	}
	if st := ms.stats.Load(); st != nil {
		for cause, n := range st.restarts {
			ch <- prometheus.MustNewConstMetric(descRestarts, prometheus.CounterValue, float64(n), cause)
		}
		ch <- prometheus.MustNewConstMetric(descReloads, prometheus.CounterValue, float64(st.reloads), "ok")
		ch <- prometheus.MustNewConstMetric(descReloads, prometheus.CounterValue, float64(st.failedReloads), "failed")
		ch <- prometheus.MustNewConstMetric(descWorkers, prometheus.GaugeValue, float64(st.workers))
		ch <- prometheus.MustNewConstMetric(descGen, prometheus.GaugeValue, float64(st.generation))
		ch <- prometheus.MustNewConstMetric(descWords, prometheus.GaugeValue, float64(st.words))
		ch <- prometheus.MustNewConstMetric(descBytes, prometheus.GaugeValue, float64(st.tableBytes))
		ch <- prometheus.MustNewConstMetric(descHandoffs, prometheus.GaugeValue, float64(st.handoffs))
	}
	if st := ms.stats.Load(); st != nil {
		for _, q := range st.queues {
			length, limit, err := q.AcceptQueue()
			if err != nil {
				continue // closed since the copy was made (SIGTTOU)
			}
			listen, socket := q.Address.String(), "0"
			if _, slot, ok := strings.Cut(q.Key(), "#"); ok {
				socket = slot
			}
			ch <- prometheus.MustNewConstMetric(descAcceptQueue, prometheus.GaugeValue, float64(length), listen, socket)
			ch <- prometheus.MustNewConstMetric(descAcceptQueueMax, prometheus.GaugeValue, float64(limit), listen, socket)
		}
	}
}

// bindMetrics binds --metrics-listen, or adopts the socket a previous
// master passed, so an upgrade does not collide with its predecessor.
func (m *Master) bindMetrics() (net.Listener, error) {
	if m.cfg.MetricsListen == "" {
		return nil, nil
	}
	if s := m.inh.Take(metricsKey); s != nil {
		defer s.Close()
		return s.Listener()
	}
	ln, err := net.Listen("tcp", m.cfg.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen %s: %w", m.cfg.MetricsListen, err)
	}
	return ln, nil
}
