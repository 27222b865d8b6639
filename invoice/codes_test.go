package invoice_test

import (
	"testing"

	"github.com/kontor-billing/kontor/invoice"
)

// TestCodeLists: every code the package declares is in its list once, with a name and a
// text, and a code that is not declared is not valid.
func TestCodeLists(t *testing.T) {
	type list struct {
		name     string
		declared []string
		listed   []string
		valid    func(string) bool
		named    func(string) string
	}
	lists := []list{
		{"VAT category", []string{"S", "AE", "O"}, texts(invoice.VATCategories),
			func(c string) bool { return invoice.VATCategories.Valid(invoice.VATCategory(c)) },
			func(c string) string { return invoice.VATCategories.Name(invoice.VATCategory(c)) }},
		{"document type", []string{"380", "381"}, texts(invoice.DocumentTypes),
			func(c string) bool { return invoice.DocumentTypes.Valid(invoice.DocumentType(c)) },
			func(c string) string { return invoice.DocumentTypes.Name(invoice.DocumentType(c)) }},
		{"payment means", []string{"1", "58", "59", "54", "68"}, texts(invoice.PaymentMeansCodes),
			func(c string) bool { return invoice.PaymentMeansCodes.Valid(invoice.PaymentMeans(c)) },
			func(c string) string { return invoice.PaymentMeansCodes.Name(invoice.PaymentMeans(c)) }},
		{"buyer kind", []string{"customer", "partner"}, texts(invoice.BuyerKinds),
			func(c string) bool { return invoice.BuyerKinds.Valid(invoice.BuyerKind(c)) },
			func(c string) string { return invoice.BuyerKinds.Name(invoice.BuyerKind(c)) }},
		{"status", []string{"draft", "finalized", "rendered", "archived"}, texts(invoice.Statuses),
			func(c string) bool { return invoice.Statuses.Valid(invoice.Status(c)) },
			func(c string) string { return invoice.Statuses.Name(invoice.Status(c)) }},
	}
	for _, l := range lists {
		t.Run(l.name, func(t *testing.T) {
			if len(l.listed) != len(l.declared) {
				t.Errorf("%d codes listed, %d declared", len(l.listed), len(l.declared))
			}
			for _, c := range l.declared {
				if !l.valid(c) || l.named(c) == "" {
					t.Errorf("%q: valid %v, name %q", c, l.valid(c), l.named(c))
				}
			}
			for _, c := range []string{"", "x", "Z"} {
				if l.valid(c) || l.named(c) != "" {
					t.Errorf("undeclared %q is valid (name %q)", c, l.named(c))
				}
			}
		})
	}
}

// texts returns the codes of a list, checking that each has a text.
func texts[T ~string](l invoice.CodeList[T]) []string {
	var out []string
	for _, e := range l {
		if e.Text != "" {
			out = append(out, string(e.Code))
		}
	}
	return out
}

func TestVATIDCondition(t *testing.T) {
	for _, tt := range []struct {
		c             invoice.VATIDCondition
		with, without bool
	}{
		{invoice.AnyVATID, true, true},
		{invoice.WithVATID, true, false},
		{invoice.WithoutVATID, false, true},
		{"other", false, false},
	} {
		if got := tt.c.Holds(true); got != tt.with {
			t.Errorf("%q.Holds(true) = %v", tt.c, got)
		}
		if got := tt.c.Holds(false); got != tt.without {
			t.Errorf("%q.Holds(false) = %v", tt.c, got)
		}
	}
}
