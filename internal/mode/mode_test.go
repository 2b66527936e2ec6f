package mode

import (
	"strings"
	"testing"
)

func TestParseKnowsEveryDesignAndListsThemWhenWrong(t *testing.T) {
	for _, m := range All {
		got, err := Parse(strings.ToUpper(string(m)))
		if err != nil || got != m {
			t.Errorf("Parse(%q) = %q, %v", m, got, err)
		}
	}
	_, err := Parse("nonsense")
	if err == nil {
		t.Fatal("Parse(nonsense) succeeded")
	}
	for _, m := range All {
		if !strings.Contains(err.Error(), string(m)) {
			t.Errorf("error %q does not list %s", err, m)
		}
	}
	if strings.Contains(err.Error(), `\"`) {
		t.Errorf("error %q has escaped quotes", err)
	}
	if len(All) != 7 || !ReusePort.IsPreForked() || Epoll.IsPreForked() || !Epoll.IsClassic() || FDPass.IsClassic() {
		t.Errorf("All %v: want the 3 pre-forked designs and the 4 baselines", All)
	}
}
