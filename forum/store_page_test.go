package forum

import (
	"encoding/json"
	"maps"
	"testing"
)

// TestParseCountsAgreesWithJSON: the reactions column is read without encoding/json;
// whatever it accepts must decode as encoding/json would, and the rest falls back.
func TestParseCountsAgreesWithJSON(t *testing.T) {
	for _, in := range []string{
		`{}`, `{"like": 1}`, `{"heart": 12, "like": 3, "thanks": 0}`, `{"like":1,"wow":2}`,
		`{"like": -1}`, `{"like": 1.5}`, `{"li\"ke": 1}`, `{"like": 1`, `["like"]`, `{"like": "1"}`, `{"like": 12345678901}`,
	} {
		got := map[string]int{}
		ok := parseCounts([]byte(in), got)
		want := map[string]int{}
		err := json.Unmarshal([]byte(in), &want)
		if ok && (err != nil || !maps.Equal(got, want)) {
			t.Errorf("%s: parsed %v, encoding/json says %v (%v)", in, got, want, err)
		}
	}
	for _, in := range []string{`{}`, `{"like": 1}`, `{"heart": 12, "like": 3, "thanks": 0}`} {
		if !parseCounts([]byte(in), map[string]int{}) {
			t.Errorf("%s: refused what PostgreSQL prints", in)
		}
	}
}
