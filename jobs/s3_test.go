package jobs_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kontor-billing/kontor/archive"
	"github.com/kontor-billing/kontor/archive/archivetest"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/jobs"
	"github.com/kontor-billing/kontor/store/storetest"
)

// TestArchiveOutageIsFinishedByTheNextRun stops the S3 server in the middle of the archive
// stage: the run fails, the invoices it could not archive stay "rendered", and the next run,
// with the server back, archives exactly the bytes rendered at finalization.
func TestArchiveOutageIsFinishedByTheNextRun(t *testing.T) {
	srv := archivetest.Start(t)
	srv.Bucket(t, "archive")
	archivetest.SetEnv(t)
	ctx := context.Background()
	_, st := storetest.New(t)
	if _, err := st.Import(ctx, load(t, "../fixtures/demo")); err != nil {
		t.Fatal(err)
	}
	arc, err := archive.Open(ctx, srv.URL("archive", "kontor"))
	if err != nil {
		t.Fatal(err)
	}
	// The outage begins when the fifth invoice has been archived (in completion order:
	// archiving is concurrent, here 4 blocks of 1 at a time); puts already in flight may
	// still finish.
	var done atomic.Int32
	opt := jobs.RunOptions{AsOf: calendar.MustParse("2026-11-01"), Renderer: renderer(t), Archive: arc, Workers: 1, Block: 1,
		Crash: func(step string) {
			if strings.HasPrefix(step, "archived-") && done.Add(1) == 5 {
				srv.Stop()
			}
		}}
	sum, err := jobs.Run(ctx, st, opt)
	// Archiving is concurrent: a few puts in flight when the server stopped may finish.
	if err == nil || sum.Archived < 5 || sum.Archived >= 25 {
		t.Fatalf("run during the outage: err %v, archived %d; want an error after at least 5", err, sum.Archived)
	}
	// Blocks delivered during the outage stay rendered; those after it stay finalized.
	rendered, _ := st.Invoices(ctx, "rendered")
	finalized, _ := st.Invoices(ctx, "finalized")
	left := len(rendered) + len(finalized)
	if len(rendered) == 0 || left != 25-sum.Archived {
		t.Fatalf("%d invoices rendered and %d finalized, not archived; want %d, some rendered", len(rendered), len(finalized), 25-sum.Archived)
	}
	srv.Restart()
	opt.Crash = nil
	// A rendered invoice is rendered again before it is archived and must give the bytes
	// whose hash was recorded; other bytes (another rendering) are refused, naming it.
	var pdfHash string
	if err := st.Pool().QueryRow(ctx, `update documents d set sha256 = 'changed' from documents old
		where d.invoice_id = $1 and d.kind = 'pdf' and old.invoice_id = d.invoice_id and old.kind = d.kind
		returning old.sha256`, rendered[0].ID).Scan(&pdfHash); err != nil {
		t.Fatal(err)
	}
	refused, err := jobs.Run(ctx, st, opt)
	if err == nil || !strings.Contains(err.Error(), "invoice "+rendered[0].Invoice.Number+" renders to another pdf") || refused.Archived >= left {
		t.Fatalf("run with a changed rendering: %v, archived %d of %d", err, refused.Archived, left)
	}
	left -= refused.Archived
	if _, err := st.Pool().Exec(ctx, `update documents set sha256 = $2 where invoice_id = $1 and kind = 'pdf'`, rendered[0].ID, pdfHash); err != nil {
		t.Fatal(err)
	}
	sum, err = jobs.Run(ctx, st, opt)
	if err != nil || sum.Archived != left || len(sum.Issued) != 0 {
		t.Fatalf("run after the outage: %v, archived %d, issued %d", err, sum.Archived, len(sum.Issued))
	}
	docs, err := st.IssuedDocuments(ctx, calendar.Date{}, calendar.Date{})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 75 {
		t.Fatalf("%d documents", len(docs))
	}
	for _, d := range docs {
		b, err := arc.Get(ctx, d.Key)
		if err != nil {
			t.Fatalf("%s: %v", d.Key, err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != d.SHA256 {
			t.Errorf("%s: archived bytes differ from the rendered ones", d.Key)
		}
	}
}
