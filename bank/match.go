package bank

import (
	"slices"
	"strings"
	"unicode"

	"github.com/shopspring/decimal"
)

// Index finds invoice numbers in remittance information as banks pass it on: in any case,
// with spaces, hyphens and line breaks inserted or dropped. It compares letters and
// digits only.
type Index struct {
	byKey   map[string]string // normalized → invoice number
	lengths []int             // the normalized numbers' lengths, longest first
}

// NewIndex indexes invoice numbers.
func NewIndex(numbers []string) *Index {
	ix := &Index{byKey: make(map[string]string, len(numbers))}
	seen := map[int]bool{}
	for _, n := range numbers {
		k := normalize(n)
		if k == "" {
			continue
		}
		ix.byKey[k] = n
		if !seen[len(k)] {
			seen[len(k)] = true
			ix.lengths = append(ix.lengths, len(k))
		}
	}
	slices.Sort(ix.lengths)
	slices.Reverse(ix.lengths) // longest first
	return ix
}

// normalize keeps the letters and digits of s, upper case.
func normalize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// Find returns the invoice numbers text names, each once, in the order it names them. A
// number followed by a further digit is not found: RE20260001 is not in RE202600012.
func (ix *Index) Find(text string) []string {
	t := normalize(text)
	var found []string
	seen := map[string]bool{}
	for i := 0; i < len(t); i++ {
		for _, n := range ix.lengths {
			if i+n > len(t) {
				continue
			}
			num, ok := ix.byKey[t[i:i+n]]
			if !ok || (i+n < len(t) && isDigit(t[i+n]) && isDigit(t[i+n-1])) || (i > 0 && isDigit(t[i-1]) && isDigit(t[i])) {
				continue
			}
			if !seen[num] {
				seen[num] = true
				found = append(found, num)
			}
			i += n - 1
			break
		}
	}
	return found
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// Result is what an entry did to the invoices it names.
type Result string

const (
	Full      Result = "full"      // pays what was open
	Partial   Result = "partial"   // pays part of it
	Over      Result = "over"      // pays more than was open
	Returned  Result = "returned"  // a direct debit returned
	Unmatched Result = "unmatched" // no invoice found, or not one this entry can pay
)

// Open is what is open of an invoice.
type Open struct {
	Number   string
	Currency string
	Amount   decimal.Decimal
}

// Allocation is an amount of an entry put on one invoice.
type Allocation struct {
	Invoice string
	Amount  decimal.Decimal
	Result  Result
}

// Allocate splits a credit of amount in currency over the open invoices it names: one
// invoice takes it all (full, partial or over); several take what is open of each when
// the amount is exactly their sum. Anything else is unmatched, with the reason.
func Allocate(amount decimal.Decimal, currency string, named []Open) ([]Allocation, string) {
	switch {
	case len(named) == 0:
		return nil, "no invoice number in the remittance information"
	case len(named) == 1:
		o := named[0]
		if o.Currency != currency {
			return nil, "invoice " + o.Number + " is in " + o.Currency + ", the transfer in " + currency
		}
		if !o.Amount.IsPositive() {
			return []Allocation{{Invoice: o.Number, Amount: amount, Result: Over}}, ""
		}
		r := Full
		if amount.LessThan(o.Amount) {
			r = Partial
		} else if amount.GreaterThan(o.Amount) {
			r = Over
		}
		return []Allocation{{Invoice: o.Number, Amount: amount, Result: r}}, ""
	}
	sum := decimal.Zero
	for _, o := range named {
		if o.Currency != currency {
			return nil, "invoice " + o.Number + " is in " + o.Currency + ", the transfer in " + currency
		}
		sum = sum.Add(o.Amount)
	}
	if !sum.Equal(amount) {
		return nil, "names several invoices and is not what is open of them together (" + sum.StringFixed(2) + ")"
	}
	out := make([]Allocation, len(named))
	for i, o := range named {
		out[i] = Allocation{Invoice: o.Number, Amount: o.Amount, Result: Full}
	}
	return out, ""
}
