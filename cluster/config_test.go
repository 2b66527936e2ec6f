package cluster

import (
	"strings"
	"testing"
)

func TestSplitAsRedisCli(t *testing.T) {
	want := map[int]string{
		1: "[0-16383]",
		3: "[0-5460 5461-10922 10923-16383]",
		4: "[0-4095 4096-8191 8192-12287 12288-16383]",
		6: "[0-2730 2731-5460 5461-8191 8192-10922 10923-13652 13653-16383]",
	}
	for n, w := range want {
		var parts []string
		for _, r := range Split(n) {
			parts = append(parts, r.String())
		}
		if got := "[" + strings.Join(parts, " ") + "]"; got != w {
			t.Errorf("Split(%d) = %s, want %s", n, got, w)
		}
	}
	for n := 1; n <= 1000; n++ {
		rs := Split(n)
		next := 0
		for _, r := range rs {
			if r.First != next || r.Last < r.First {
				t.Fatalf("Split(%d): range %s after slot %d", n, r, next-1)
			}
			next = r.Last + 1
		}
		if len(rs) != n || next != Slots {
			t.Fatalf("Split(%d) gives %d ranges ending at %d", n, len(rs), next)
		}
	}
}

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`
# three shards
10923-16383 127.0.0.1:7003
0-5460      127.0.0.1:7001 1BBB33DBADC00A75D1B5FCB38AE9DA12D1E9809C
5461-10922  [::1]:7002
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Shards) != 3 || c.Shards[0].Addr != "127.0.0.1:7001" || c.Shards[2].Slots.First != 10923 {
		t.Fatalf("shards not in slot order: %+v", c.Shards)
	}
	if c.Shards[0].ID != "1bbb33dbadc00a75d1b5fcb38ae9da12d1e9809c" {
		t.Errorf("id %s: want it as given, in lower case", c.Shards[0].ID)
	}
	if id := c.Shards[1].ID; len(id) != 40 || id == c.Shards[2].ID {
		t.Errorf("derived ids %s and %s: want 40 hex digits each, distinct", id, c.Shards[2].ID)
	}
	if c.Shards[1].Host() != "::1" || c.Shards[1].Port() != 7002 {
		t.Errorf("host %s port %d", c.Shards[1].Host(), c.Shards[1].Port())
	}
	again, _ := ParseConfig([]byte("5461-10922 [::1]:7002\n0-5460 127.0.0.1:7001\n10923-16383 127.0.0.1:7003\n"))
	if again.Shards[1].ID != c.Shards[1].ID {
		t.Error("the same line derives a different id")
	}
	for slot, want := range map[int]int{0: 0, 5460: 0, 5461: 1, 13296: 2, 16383: 2} {
		if got := c.Owner(slot); got != want {
			t.Errorf("Owner(%d) = %d, want %d", slot, got, want)
		}
	}
}

func TestParseConfigRefuses(t *testing.T) {
	for text, want := range map[string]string{
		"":                         "no shards",
		"0-16383":                  "line 1: want SLOTS ADDRESS",
		"0-16384 a:1":              "want 0 <= FIRST <= LAST <= 16383",
		"x-1 a:1":                  "want FIRST-LAST",
		"0-16383 a":                "address a: want HOST:PORT",
		"0-16383 a:0":              "address a:0",
		"0-16383 a:1 xyz":          "node id xyz: want 40 hexadecimal digits",
		"0-100 a:1\n50-16383 b:1":  "slots 50-16383 overlap",
		"0-100 a:1\n200-16383 b:1": "slots 101-199 are served by no shard",
		"0-100 a:1":                "slots 101-16383 are served by no shard",
		"0-100 a:1\n101-16383 a:1": "address a:1 serves two slot ranges",
		"# only a comment\n\n":     "no shards",
		"0-100 a:1 " + strings.Repeat("ab", 20) + "\n101-16383 b:1 " + strings.Repeat("AB", 20): "given twice",
	} {
		_, err := ParseConfig([]byte(text))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseConfig(%q) = %v, want an error with %q", text, err, want)
		}
	}
}
