package charging

import (
	"testing"

	"github.com/shopspring/decimal"
)

func TestMinorUnits(t *testing.T) {
	for _, c := range []struct {
		amount, currency string
		want             int64
		err              bool
	}{
		{"119.00", "EUR", 11900, false},
		{"0.01", "eur", 1, false},
		{"1481.43", "USD", 148143, false},
		{"1200", "JPY", 1200, false},
		{"12.345", "EUR", 0, true},
		{"12.5", "JPY", 0, true},
	} {
		got, err := MinorUnits(decimal.RequireFromString(c.amount), c.currency)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("MinorUnits(%s %s) = %d, %v; want %d, error %v", c.amount, c.currency, got, err, c.want, c.err)
		}
		if err == nil && !FromMinor(got, c.currency).Equal(decimal.RequireFromString(c.amount)) {
			t.Errorf("FromMinor(%d, %s) = %s, want %s", got, c.currency, FromMinor(got, c.currency), c.amount)
		}
	}
}
