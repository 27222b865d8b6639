package main

import (
	"io"
	"log/slog"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows how far a long command is: a progress bar per stage on a terminal,
// otherwise a log line at every tenth of a stage.
type progress struct {
	w     io.Writer
	tty   bool
	log   *slog.Logger
	bar   *progressbar.ProgressBar
	stage string
	tenth int
}

func newProgress(w io.Writer, log *slog.Logger) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, tty: ok && term.IsTerminal(int(f.Fd())), log: log}
}

// update records that done of total items of stage are complete.
func (p *progress) update(stage string, done, total int) {
	if stage != p.stage {
		p.finish()
		p.stage, p.tenth = stage, 0
		if p.tty {
			p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(stage),
				progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100_000_000),
				progressbar.OptionOnCompletion(func() { io.WriteString(p.w, "\n") }))
		}
	}
	if p.bar != nil {
		p.bar.Set(done)
		return
	}
	if total > 0 {
		if t := done * 10 / total; t > p.tenth || done == total {
			p.tenth = t
			p.log.Info("progress", "stage", stage, "done", done, "total", total)
		}
	}
}

// finish ends the current stage's bar.
func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
}
