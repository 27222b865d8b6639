package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"

	"github.com/kontor-billing/kontor/archive"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/zugferd"
	"golang.org/x/sync/errgroup"
)

// Delivery renders and archives blocks of finalized invoices: the render and archive
// steps of a run's finalize stage, and the work of kontor worker's jobs.

// DeliveryStore is what rendering and archiving need of the system of record.
type DeliveryStore interface {
	InvoicesByID(ctx context.Context, ids []int64) ([]invoice.Stored, error)
	SaveDocuments(ctx context.Context, rendered []invoice.RenderedFiles) error
	DocumentHashes(ctx context.Context, ids []int64) (map[int64]map[string]string, error)
	MarkArchived(ctx context.Context, archived []invoice.ArchiveKeys) error
	Logo(ctx context.Context, id string) ([]byte, error)
}

// Delivery is what rendering and archiving a block needs.
type Delivery struct {
	Store    DeliveryStore
	Renderer *zugferd.Renderer
	Archive  Archive
	Logger   *slog.Logger
	// Crash, when set, is called at the named steps (as in RunOptions).
	Crash func(step string)
	// Done, when set, is told how many invoices of a block were rendered or archived
	// (stage render or archive). Blocks delivered at once call it concurrently.
	Done func(stage string, n int)
}

// deliver delivers a block of invoices: it renders the finalized ones and records their
// files' hashes and status in one transaction, then archives every one not archived yet
// and records them archived in one transaction. An invoice rendered before (by a run
// that stopped before archiving it) is rendered again and must give the recorded bytes.
// first is the position of invs[0]; the crash steps are named by position.
func (d Delivery) deliver(ctx context.Context, invs []invoice.Stored, first int) error {
	crash := d.Crash
	if crash == nil {
		crash = func(string) {}
	}
	done := func(stage string, n int) {
		if d.Done != nil && n > 0 {
			d.Done(stage, n)
		}
	}
	files, err := d.render(ctx, invs, first, crash)
	if err != nil {
		return err
	}
	done("render", len(invs)-len(files.again)-len(files.archived))
	n, err := d.archive(ctx, invs, files.docs, first, crash)
	if err != nil {
		return err
	}
	done("archive", n)
	return nil
}

// blockFiles are the files of a block's invoices by invoice ID, and which of them were
// rendered before (again) or are archived already.
type blockFiles struct {
	docs            map[int64][]invoice.File
	again, archived []int64
}

// render renders the block's invoices not archived yet, records the hashes of those
// rendered for the first time and checks the others against theirs.
func (d Delivery) render(ctx context.Context, invs []invoice.Stored, first int, crash func(string)) (blockFiles, error) {
	f := blockFiles{docs: make(map[int64][]invoice.File, len(invs))}
	for _, si := range invs {
		switch si.Status {
		case invoice.Rendered:
			f.again = append(f.again, si.ID)
		case invoice.Archived:
			f.archived = append(f.archived, si.ID)
		case invoice.Draft, invoice.Finalized: // rendered below for the first time
		}
	}
	var recorded map[int64]map[string]string
	if len(f.again) > 0 {
		var err error
		if recorded, err = d.Store.DocumentHashes(ctx, f.again); err != nil {
			return f, fmt.Errorf("read the recorded hashes of %d invoices: %w", len(f.again), err)
		}
	}
	var rendered []invoice.RenderedFiles
	for i, si := range invs {
		if si.Status == invoice.Archived {
			continue
		}
		if err := d.giveLogo(ctx, si.Invoice); err != nil {
			return f, err
		}
		docs, err := Render(d.Renderer, si.Invoice)
		if err != nil {
			return f, fmt.Errorf("render invoice %s: %w", si.Invoice.Number, err)
		}
		f.docs[si.ID] = docs
		if si.Status == invoice.Rendered {
			if err := sameAsRecorded(si.Invoice.Number, docs, recorded[si.ID]); err != nil {
				return f, err
			}
			continue
		}
		crash(fmt.Sprintf("render-%d", first+i))
		rendered = append(rendered, invoice.RenderedFiles{ID: si.ID, Files: docs})
	}
	if err := d.Store.SaveDocuments(ctx, rendered); err != nil {
		return f, fmt.Errorf("record %d rendered invoices: %w", len(rendered), err)
	}
	for i, si := range invs {
		if si.Status == invoice.Finalized {
			crash(fmt.Sprintf("rendered-%d", first+i))
		}
	}
	return f, nil
}

// giveLogo hands the renderer the logo inv names, from the store, unless it has it.
func (d Delivery) giveLogo(ctx context.Context, inv *invoice.Invoice) error {
	id := inv.Letterhead.Logo
	if id == "" || d.Renderer.HasLogo(id) {
		return nil
	}
	data, err := d.Store.Logo(ctx, id)
	if err != nil {
		return fmt.Errorf("render invoice %s: %w", inv.Number, err)
	}
	if err := d.Renderer.AddLogo(data); err != nil {
		return fmt.Errorf("render invoice %s: logo %s: %w", inv.Number, id, err)
	}
	return nil
}

// archive puts the files of the block's invoices not archived yet into the archive and
// records them archived; it returns how many it archived.
func (d Delivery) archive(ctx context.Context, invs []invoice.Stored, files map[int64][]invoice.File, first int, crash func(string)) (int, error) {
	var objs []archive.Object
	var steps []string
	var archived []invoice.ArchiveKeys
	for i, si := range invs {
		if si.Status == invoice.Archived {
			continue
		}
		docs := files[si.ID]
		keys := make(map[string]string, len(docs))
		for _, doc := range docs {
			key, err := archive.Key(si.Invoice.Number, si.Invoice.IssueDate, doc.Kind)
			if err != nil {
				return 0, fmt.Errorf("archive invoice %s: %w", si.Invoice.Number, err)
			}
			objs = append(objs, archive.Object{Key: key, Data: doc.Bytes})
			steps = append(steps, fmt.Sprintf("put-%d-%s", first+i, doc.Kind))
			keys[doc.Kind] = key
		}
		archived = append(archived, invoice.ArchiveKeys{ID: si.ID, Keys: keys})
	}
	if err := putAll(ctx, d.Archive, objs); err != nil {
		return 0, err
	}
	for _, step := range steps {
		crash(step)
	}
	if err := d.Store.MarkArchived(ctx, archived); err != nil {
		return 0, fmt.Errorf("record %d invoices archived: %w", len(archived), err)
	}
	for i, si := range invs {
		if si.Status != invoice.Archived {
			crash(fmt.Sprintf("archived-%d", first+i))
		}
	}
	return len(archived), nil
}

// sameAsRecorded checks that an invoice rendered again gives the files whose hashes were
// recorded (kind → SHA-256) when it was first rendered.
func sameAsRecorded(number string, docs []invoice.File, recorded map[string]string) error {
	if len(recorded) != len(docs) {
		return fmt.Errorf("invoice %s: %d rendered file(s) recorded, it renders to %d", number, len(recorded), len(docs))
	}
	for _, doc := range docs {
		if recorded[doc.Kind] != doc.SHA256 {
			return fmt.Errorf("invoice %s renders to another %s than was recorded when it was first rendered (SHA-256 %s, now %s): finish its delivery with the kontor version that rendered it", number, doc.Kind, recorded[doc.Kind], doc.SHA256)
		}
	}
	return nil
}

// allPutter is an archive that stores several objects in one call, more cheaply than one
// by one (a local directory syncs each directory once for all of them).
type allPutter interface {
	PutAll(ctx context.Context, objs []archive.Object) error
}

// putsAtOnce is how many objects of a block go to an archive at once when it stores them
// one by one (S3: each put waits on the network).
const putsAtOnce = 8

// putAll stores objs in arc: all in one call where arc can, else up to putsAtOnce at a
// time.
func putAll(ctx context.Context, arc Archive, objs []archive.Object) error {
	if a, ok := arc.(allPutter); ok {
		return a.PutAll(ctx, objs)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(putsAtOnce)
	for _, o := range objs {
		g.Go(func() error {
			if err := arc.Put(gctx, o.Key, o.Data); err != nil {
				return fmt.Errorf("archive %s: %w", o.Key, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// deliveries delivers blocks of invoices while more are added: each block is rendered,
// its files' hashes recorded in one transaction, archived (a local archive syncs once per
// block) and recorded as archived in one transaction, several blocks at once, so that the
// cores stay busy while other blocks wait on the database and the disk, and numbering
// goes on meanwhile. Rendering is deterministic: an invoice rendered but not archived when
// a run stops is rendered again, to the same bytes.
type deliveries struct {
	d       Delivery
	stopped func() bool
	size    int
	next    []invoice.Stored // the block being filled
	count   int              // invoices handed to blocks
	blocks  chan deliveryBlock
	wg      sync.WaitGroup
	mu      sync.Mutex
	err     error // the first block's error, or ErrStopped
}

type deliveryBlock struct {
	invs  []invoice.Stored
	first int // the position of its first invoice, from 1
}

// startDeliveries starts delivering, with 4 blocks at once per worker (RunOptions.Workers,
// default a worker per core); toRender and toArchive are the totals for progress, which
// is reported under mu, as the numbering reports its own.
func startDeliveries(ctx context.Context, r *runState, st DeliveryStore, mu *sync.Mutex, toRender, toArchive int) *deliveries {
	workers := r.opt.Workers
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	size := cmp.Or(max(r.opt.Block, 0), DefaultQueueBlock)
	// Two finalized batches and a block per delivering goroutine wait at most: numbering
	// keeps ahead of deliveries (one batch is numbered while the last is handed over),
	// but waits for them beyond that, so that a run of 100,000 invoices does not hold
	// them all in memory.
	dl := &deliveries{stopped: r.stopped, size: size, blocks: make(chan deliveryBlock, 2*(r.opt.finalizeBatch()/size+1)+4*workers)}
	dl.d = Delivery{Store: st, Renderer: r.opt.Renderer, Archive: r.opt.Archive, Logger: r.log, Crash: r.step,
		Done: func(stage string, n int) {
			mu.Lock()
			defer mu.Unlock()
			if stage == "render" {
				r.sum.Rendered += n
				r.opt.progress(stage, r.sum.Rendered, toRender)
			} else {
				r.sum.Archived += n
				r.opt.progress(stage, r.sum.Archived, toArchive)
			}
		}}
	for range 4 * workers {
		dl.wg.Add(1)
		go dl.work(ctx)
	}
	return dl
}

// work delivers blocks until there are no more; after a failure it drains them.
func (dl *deliveries) work(ctx context.Context) {
	defer dl.wg.Done()
	for b := range dl.blocks {
		if dl.failed() {
			continue // drained: the run returns the first error
		}
		if dl.stopped() {
			dl.fail(ErrStopped)
			continue
		}
		if err := dl.d.deliver(ctx, b.invs, b.first); err != nil {
			dl.fail(err)
		}
	}
}

// add hands invoices over for delivery, in blocks of the block size.
func (dl *deliveries) add(_ context.Context, invs []invoice.Stored) error {
	for _, si := range invs {
		dl.next = append(dl.next, si)
		if len(dl.next) == dl.size {
			dl.send()
		}
	}
	return nil
}

func (dl *deliveries) send() {
	if len(dl.next) == 0 {
		return
	}
	dl.blocks <- deliveryBlock{invs: dl.next, first: dl.count + 1}
	dl.count += len(dl.next)
	dl.next = nil
}

func (dl *deliveries) fail(err error) {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	if dl.err == nil || (errors.Is(dl.err, ErrStopped) && !errors.Is(err, ErrStopped)) {
		dl.err = err
	}
}

// failed reports whether a block failed.
func (dl *deliveries) failed() bool {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	return dl.err != nil && !errors.Is(dl.err, ErrStopped)
}

// finish delivers the last block (unless err says why the caller stopped adding: ErrStopped
// or its failure), waits for every block and returns the caller's failure, else the
// first block's error, else err.
func (dl *deliveries) finish(_ context.Context, err error) error {
	if err == nil {
		dl.send()
	}
	close(dl.blocks)
	dl.wg.Wait()
	if err != nil && !errors.Is(err, ErrStopped) {
		return err // the caller's own failure
	}
	if dl.err != nil {
		return dl.err // a block's, or ErrStopped
	}
	return err
}
