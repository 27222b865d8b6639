package main

import (
	"io"
	"log/slog"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows how far a long command is: a progress bar per stage on a terminal,
// otherwise a log line at every tenth of a stage. Stages may interleave (a run's
// deliveries report render and archive by turns): each keeps its own bar and tenth.
type progress struct {
	w      io.Writer
	tty    bool
	log    *slog.Logger
	stages map[string]*stage
	order  []*stage
}

type stage struct {
	bar   *progressbar.ProgressBar
	tenth int // tenths logged
}

func newProgress(w io.Writer, log *slog.Logger) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, tty: ok && term.IsTerminal(int(f.Fd())), log: log, stages: map[string]*stage{}}
}

// update records that done of total items of stage are complete.
func (p *progress) update(name string, done, total int) {
	st := p.stages[name]
	if st == nil {
		st = &stage{}
		if p.tty {
			st.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(name),
				progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100_000_000),
				progressbar.OptionOnCompletion(func() { io.WriteString(p.w, "\n") }))
		}
		p.stages[name] = st
		p.order = append(p.order, st)
	}
	if st.bar != nil {
		_ = st.bar.Set(done)
		return
	}
	if total > 0 {
		if t := done * 10 / total; t > st.tenth {
			st.tenth = t
			p.log.Info("progress", "stage", name, "done", done, "total", total)
		}
	}
}

// finish ends the stages' bars.
func (p *progress) finish() {
	for _, st := range p.order {
		if st.bar != nil {
			_ = st.bar.Finish()
		}
	}
	clear(p.stages)
	p.order = nil
}
