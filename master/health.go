package master

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/freqd/freqd/shm/freqfile"
)

// Health over HTTP, on the --metrics-listen address, for load balancers
// and orchestrators that check a server without a Redis client or its
// password (Kubernetes httpGet probes, HAProxy's option httpchk):
//
//   - /livez answers 200 while the master runs: restart the server if it
//     does not.
//   - /readyz answers 200 when clients should be sent here: the table is
//     loaded, a worker of the current generation is ready, no stop has
//     begun; 503 otherwise. During --shutdown-delay it answers 503 while
//     the server goes on serving, so that clients stop arriving before the
//     drain. Its body (JSON) says why, and names the table served, so a
//     deployment can check that every replica serves the same one.

// tableIdentity names a table: replicas that serve the same file report
// the same id.
type tableIdentity struct {
	ID    string `json:"id"` // the body checksum, 8 lower-case hex digits
	Words uint64 `json:"words"`
	Total uint64 `json:"total"`
	Built string `json:"built,omitempty"` // RFC 3339, when the table records it
}

// identify reads a table's identity.
func identify(t *freqfile.Table) tableIdentity {
	id := tableIdentity{ID: fmt.Sprintf("%08x", t.ID()), Words: t.Len(), Total: t.Total()}
	id.Built, _ = t.Meta("built")
	return id
}

// livez answers that the master runs.
func (ms *metricsServer) livez(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// readyz answers whether clients should be sent here, and why not.
func (ms *metricsServer) readyz(w http.ResponseWriter, _ *http.Request) {
	st := ms.stats.Load()
	body := struct {
		Ready      bool          `json:"ready"`
		Reason     string        `json:"reason"`
		Generation uint64        `json:"generation"`
		Table      tableIdentity `json:"table"`
	}{Reason: "starting"}
	if st != nil {
		body.Ready, body.Reason, body.Generation, body.Table = st.ready, st.notReady, st.generation, st.table
	}
	w.Header().Set("Content-Type", "application/json")
	if !body.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	json.NewEncoder(w).Encode(body)
}
