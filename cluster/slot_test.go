package cluster

import "testing"

// The slots Redis 7 gives (CLUSTER KEYSLOT), and CRC-16/XMODEM's check
// value.
func TestSlot(t *testing.T) {
	if got := crc16([]byte("123456789")); got != 0x31c3 {
		t.Fatalf("crc16(123456789) = %#04x, want 0x31c3", got)
	}
	for _, c := range []struct {
		key  string
		slot int
	}{
		{"", 0},
		{"foo", 12182},
		{"Monday", 13296},
		{"monday", 1784},
		{"{user1000}.following", 3443},
		{"{user1000}.followers", 3443},
		{"user1000", 3443},
		{"foo{}{bar}", 8363},    // empty first tag: the whole key
		{"foo{{bar}}zap", 4015}, // the tag is "{bar"
		{"foo{bar}{zap}", 5061}, // the first tag only
		{"{", 4092},             // no closing brace: the whole key
		{"naïve", 2847},         // bytes, not runes
	} {
		if got := Slot([]byte(c.key)); got != c.slot {
			t.Errorf("Slot(%q) = %d, want %d", c.key, got, c.slot)
		}
	}
}
