package word

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Case is how a table treats letter case.
type Case uint8

const (
	// CaseKeep keeps case: "The" and "the" are different words.
	CaseKeep Case = iota
	// CaseLower lower-cases rune by rune (unicode.ToLower), the folding of
	// tables built before rules were recorded; it knows nothing of final
	// sigma, ß or ligatures.
	CaseLower
	// CaseFold is Unicode's full case folding.
	CaseFold
)

// Rules is how a table's words were made from its inputs, and so how a
// query is made comparable with them. The zero value keeps every word as
// written.
type Rules struct {
	Case Case
	// NFC composes a word to Unicode Normalization Form C.
	NFC bool
	// Apostrophes reads ’, ʼ and ＇ as '.
	Apostrophes bool
	// SplitContractions says the table counts a contraction's parts ("don"
	// and "t") rather than the contraction: lookups answer "don't" from
	// them (Parts).
	SplitContractions bool
	// SegmentUnspaced says runs of unspaced scripts were counted character by
	// character or listed as words: a text is segmented by longest match
	// against the table (Segment), not taken a run at a time.
	SegmentUnspaced bool
	// LongestUnspaced is the length in characters of the table's longest
	// word in an unspaced script, which bounds a longest match.
	LongestUnspaced int

	legacy bool // from a table that records no rules
}

// Default is the rules `freqd build` applies unless told otherwise.
// Whether contractions are split depends on the words counted, so it is
// decided once they are (see ingest).
func Default() Rules {
	return Rules{Case: CaseFold, NFC: true, Apostrophes: true, SegmentUnspaced: true}
}

// Legacy is the rules of a table with no "normalize." metadata: case
// lowered rune by rune if the header says the table folds case, nothing
// else, as freqd served such tables before it recorded rules.
func Legacy(foldsCase bool) Rules {
	if foldsCase {
		return Rules{Case: CaseLower, legacy: true}
	}
	return Rules{legacy: true}
}

// FoldsCase reports whether the rules fold case in any way.
func (r Rules) FoldsCase() bool { return r.Case != CaseKeep }

// Recorded reports whether r can be stored as metadata: the Legacy rules
// cannot, because they are what a table that records none gets.
func (r Rules) Recorded() bool { return !r.legacy && r.Case != CaseLower }

// The metadata keys of the rules. All but metaUnicodeVersion are required
// in a table that has any of them.
const (
	metaPrefix         = "normalize."
	metaUnicode        = metaPrefix + "unicode"
	metaCase           = metaPrefix + "case"
	metaApostrophe     = metaPrefix + "apostrophe"
	metaContractions   = metaPrefix + "contractions"
	metaUnspaced       = metaPrefix + "unspaced"
	metaUnspacedLen    = metaPrefix + "unspaced-longest"
	metaUnicodeVersion = metaPrefix + "unicode-version"
)

// UnicodeVersion is the version of Unicode whose tables this build of
// freqd normalizes with. Unicode keeps the case folding and normalization
// of assigned characters stable across versions, so a table built with
// another version differs only on characters one of them lacks.
const UnicodeVersion = norm.Version

// Meta returns the rules as metadata entries, for freqfile.BuildOptions.
// It panics on rules that cannot be recorded (Recorded).
func (r Rules) Meta() map[string]string {
	if !r.Recorded() {
		panic("word: the legacy rules cannot be recorded in a table")
	}
	m := map[string]string{
		metaUnicode:        pick(r.NFC, "nfc", "none"),
		metaCase:           pick(r.Case == CaseFold, "fold", "keep"),
		metaApostrophe:     pick(r.Apostrophes, "ascii", "keep"),
		metaContractions:   pick(r.SplitContractions, "split", "joined"),
		metaUnspaced:       pick(r.SegmentUnspaced, "longest-match", "run"),
		metaUnicodeVersion: UnicodeVersion,
	}
	if r.SegmentUnspaced {
		m[metaUnspacedLen] = strconv.Itoa(r.LongestUnspaced)
	}
	return m
}

func pick(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// FromMeta reads the rules a table records in its metadata. A table with
// no "normalize." key gets Legacy(foldsCase), foldsCase being its header's
// case-folding flag. A value this freqd does not know, or a "normalize."
// key it does not know, is an error: the table was built by a newer freqd
// with rules this one cannot apply, and its lookups would be wrong.
func FromMeta(meta map[string]string, foldsCase bool) (Rules, error) {
	var keys []string
	for k := range meta {
		if strings.HasPrefix(k, metaPrefix) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return Legacy(foldsCase), nil
	}
	slices.Sort(keys)
	var r Rules
	var err error
	choose := func(key, yes, no string) bool {
		v, ok := meta[key]
		switch {
		case err != nil:
		case !ok:
			err = fmt.Errorf("the table's normalization rules lack %s; rebuild it with freqd build", key)
		case v == yes:
			return true
		case v != no:
			err = fmt.Errorf("the table's rule %s=%s is unknown to this freqd (it knows %s and %s); use a newer freqd or rebuild the table", key, v, yes, no)
		}
		return false
	}
	r.NFC = choose(metaUnicode, "nfc", "none")
	if choose(metaCase, "fold", "keep") {
		r.Case = CaseFold
	}
	r.Apostrophes = choose(metaApostrophe, "ascii", "keep")
	r.SplitContractions = choose(metaContractions, "split", "joined")
	r.SegmentUnspaced = choose(metaUnspaced, "longest-match", "run")
	if err != nil {
		return Rules{}, err
	}
	if r.SegmentUnspaced {
		n, perr := strconv.Atoi(meta[metaUnspacedLen])
		if perr != nil || n < 0 {
			return Rules{}, fmt.Errorf("the table's rule %s=%q is not a count of characters; rebuild the table", metaUnspacedLen, meta[metaUnspacedLen])
		}
		r.LongestUnspaced = n
	}
	for _, k := range keys {
		switch k {
		case metaUnicode, metaCase, metaApostrophe, metaContractions, metaUnspaced, metaUnspacedLen, metaUnicodeVersion:
		default:
			return Rules{}, fmt.Errorf("the table has normalization rule %s, unknown to this freqd; use a newer freqd or rebuild the table", k)
		}
	}
	if r.FoldsCase() != foldsCase {
		return Rules{}, fmt.Errorf("the table's header and its rule %s=%s disagree about case folding; the file is damaged, rebuild it", metaCase, meta[metaCase])
	}
	return r, nil
}

// Describe says in words what the rules do, one line per rule, as
// `freqd inspect` prints them.
func (r Rules) Describe() []string {
	if !r.Recorded() {
		kind := "case kept"
		if r.FoldsCase() {
			kind = "case lowered letter by letter"
		}
		return []string{"none recorded (a table from before rules were recorded): " + kind + ", no Unicode normalization, apostrophes as written, contractions whole, unspaced scripts a run at a time"}
	}
	lines := []string{
		pick(r.NFC, "Unicode NFC", "no Unicode normalization"),
		pick(r.Case == CaseFold, "full Unicode case folding (final sigma, ß, Kelvin sign)", "case kept"),
		pick(r.Apostrophes, "’ ʼ ＇ read as '", "apostrophes as written"),
		pick(r.SplitContractions, "contractions answered from their parts (don't: don, t)", "contractions are words of their own"),
	}
	switch {
	case r.SegmentUnspaced && r.LongestUnspaced > 1:
		lines = append(lines, fmt.Sprintf("unspaced scripts (Chinese, Japanese, Thai) split by longest match, up to %d characters", r.LongestUnspaced))
	case r.SegmentUnspaced:
		lines = append(lines, "unspaced scripts (Chinese, Japanese, Thai) a character at a time: the table has no longer words in them")
	default:
		lines = append(lines, "unspaced scripts a run at a time")
	}
	return lines
}
