package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// profiles writes the profiles asked for with --cpuprofile and --memprofile.
type profiles struct {
	cpu, mem string
	cpuFile  *os.File
	stop     chan struct{}
	done     chan error
}

func (p *profiles) start() error {
	if p.cpu != "" {
		f, err := os.Create(p.cpu)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		p.cpuFile = f
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
	}
	if p.mem != "" {
		p.stop, p.done = make(chan struct{}), make(chan error, 1)
		go func() { p.done <- peakHeapProfile(p.mem, p.stop) }()
	}
	return nil
}

func (p *profiles) finish() error {
	var err error
	if p.cpuFile != nil {
		pprof.StopCPUProfile()
		err = p.cpuFile.Close()
	}
	if p.stop != nil {
		close(p.stop)
		if e := <-p.done; e != nil && err == nil {
			err = e
		}
	}
	return err
}

// peakHeapProfile writes to path a heap profile (go tool pprof) of the largest live
// heap it sees: it looks at the live heap every 100 ms until stop closes, and takes a
// profile whenever the heap is a tenth larger than at the last one (the memory a run
// needs is its peak, not its end).
func peakHeapProfile(path string, stop <-chan struct{}) error {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var best bytes.Buffer
	var peak uint64
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		metrics.Read(sample)
		if live := sample[0].Value.Uint64(); best.Len() == 0 || live > peak+peak/10 {
			peak = live
			best.Reset()
			if err := pprof.Lookup("heap").WriteTo(&best, 0); err != nil {
				return fmt.Errorf("heap profile: %w", err)
			}
		}
		select {
		case <-stop:
			if err := os.WriteFile(path, best.Bytes(), 0o644); err != nil {
				return fmt.Errorf("heap profile: %w", err)
			}
			return nil
		case <-tick.C:
		}
	}
}
