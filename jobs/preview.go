// Package jobs holds kontor's pipeline jobs: the preview, and the run as an ordered list
// of stages (runStages: load, assemble, finalize with the delivery, licenses, report,
// finish), each a small type in a file of its own that consumes the store through one
// narrow interface defined beside it. A stage works on everything pending, so a run
// finishes what an interrupted one began. docs/architecture.md says what each stage reads
// and writes and where a new stage goes.
package jobs

import (
	"fmt"

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

// RunPreview rates ds as of asOf and assembles the invoices, issued on asOf. Credit notes
// the dataset asks for (dataset.json credit_notes) follow the invoices, numbered
// DRAFT-CN-0001, …
func RunPreview(ds *dataset.Dataset, asOf calendar.Date) (Preview, error) {
	res := rating.Run(ds, asOf)
	p := Preview{Rating: res, Batch: invoice.Assemble(ds, res, invoice.Options{IssueDate: asOf})}
	for i, req := range ds.Manifest.CreditNotes {
		var orig *invoice.Invoice
		for _, inv := range p.Batch.Invoices {
			if inv.Number == req.Invoice {
				orig = inv
			}
		}
		if orig == nil {
			return p, fmt.Errorf("dataset.json credit_notes[%d]: the run issues no invoice %s", i, req.Invoice)
		}
		cn, err := invoice.CreditNoteFor(orig, fmt.Sprintf("DRAFT-CN-%04d", i+1), asOf, req.Reason)
		if err != nil {
			return p, fmt.Errorf("dataset.json credit_notes[%d]: %w", i, err)
		}
		p.Batch.Invoices = append(p.Batch.Invoices, cn)
	}
	return p, nil
}
