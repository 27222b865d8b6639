package zugferd_test

import (
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/zugferd"
)

func TestCompareNamesBusinessTerms(t *testing.T) {
	inv := documents(t)["partner-consolidated-DRAFT-0001"]
	want, err := zugferd.XML(inv)
	if err != nil {
		t.Fatal(err)
	}
	same, err := zugferd.Compare(want, want)
	if err != nil || len(same) != 0 {
		t.Fatalf("identical documents: %v %v", same, err)
	}
	changed := *inv
	changed.Buyer.Name = "Someone Else"
	changed.DueDate = inv.DueDate.AddDays(1)
	changed.Lines = append(changed.Lines[:0:0], inv.Lines...)
	changed.Lines[1].Quantity = changed.Lines[1].Quantity.Add(changed.Lines[1].Quantity)
	changed.Notes = nil
	got, err := zugferd.XML(&changed)
	if err != nil {
		t.Fatal(err)
	}
	diffs, err := zugferd.Compare(want, got)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, d := range diffs {
		lines = append(lines, d.String())
	}
	all := strings.Join(lines, "\n")
	for _, w := range []string{
		"BT-44 buyer name expected Dynamics Partner Süd GmbH got Someone Else",
		"BT-9 due date expected 20261115 got 20261116",
		"BT-129 quantity (line 2) expected",
		"BT-22 invoice note expected Positionen gruppiert nach Endkunde. got (missing)",
	} {
		if !strings.Contains(all, w) {
			t.Errorf("differences lack %q:\n%s", w, all)
		}
	}
	if _, err := zugferd.Compare([]byte("<a>"), want); err == nil {
		t.Error("malformed expected XML was compared")
	}
}
