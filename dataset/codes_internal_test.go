package dataset

import (
	"regexp"
	"strings"
	"testing"
)

// TestIsID checks isID against the definition of an ID as a regular expression, on
// hand-picked strings and on every string of up to three characters from an alphabet
// of edge cases.
func TestIsID(t *testing.T) {
	def := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)
	cases := []string{"", "S-00001", "a", "9", ".a", "-a", "a.b_c:d-e", "a b", "ä", "a/b", "a\x00",
		strings.Repeat("x", 64), strings.Repeat("x", 65), "S1\n", "Ö1", "a\u200b"}
	const alphabet = "aZ09._:- /@\xc3\xa4"
	for _, a := range alphabet {
		cases = append(cases, string(a))
		for _, b := range alphabet {
			cases = append(cases, string(a)+string(b))
			for _, c := range alphabet {
				cases = append(cases, string(a)+string(b)+string(c))
			}
		}
	}
	for _, s := range cases {
		if got, want := isID(s), def.MatchString(s); got != want {
			t.Errorf("isID(%q) = %v, want %v", s, got, want)
		}
	}
}
