// Package jobs holds kontor's pipeline jobs: what a run does, stage by stage, from a
// dataset to invoices.
package jobs

import (
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/rating"
)

// Preview is a stateless run: what a run as of asOf would invoice, given the dataset's
// opening state, with draft numbers. It changes nothing anywhere.
type Preview struct {
	Rating rating.Result `json:"rating"`
	Batch  invoice.Batch `json:"batch"`
}

// RunPreview rates ds as of asOf and assembles the invoices, issued on asOf.
func RunPreview(ds *dataset.Dataset, asOf calendar.Date) Preview {
	res := rating.Run(ds, asOf)
	return Preview{Rating: res, Batch: invoice.Assemble(ds, res, invoice.Options{IssueDate: asOf})}
}
