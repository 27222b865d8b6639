package console

import (
	"html/template"
	"time"

	"github.com/kontor-billing/kontor/invoice"
	"github.com/shopspring/decimal"
)

// funcs are the templates' functions.
var funcs = template.FuncMap{
	"allows": func(r Role, need string) bool { return r.allows(Role(need)) },
	"time":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"money":  func(d decimal.Decimal) string { return d.StringFixed(2) },
	"count":  invoice.Count,
	"doctype": func(t invoice.DocumentType) string {
		if n := invoice.DocumentTypes.Name(t); n != "" {
			return n
		}
		return string(t)
	},
}
