package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// barEvery is how often a progress bar on a terminal is redrawn.
const barEvery = 200 * time.Millisecond

// Progress shows on a writer (standard error) how far a long task has come:
// on a terminal, a bar redrawn in place a few times a second; otherwise a
// line at a fixed interval, such as
//
//	flywheel: 90000/200000 runs (45.0%), 12.0s
//
// Nothing is shown before the first interval (for a bar, the first redraw)
// has passed, so a task that ends sooner prints nothing. Set and Add are safe
// for concurrent use.
type Progress struct {
	w      io.Writer
	prefix string // the program's name
	unit   string // what is counted, plural: "runs", "customers"
	total  int64
	bar    bool
	every  time.Duration
	start  time.Time

	done atomic.Int64
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once // for Stop

	// Written by the drawing goroutine, then by Stop after it has ended.
	shown bool  // whether anything was drawn
	last  int64 // the count last drawn
	width int   // the width of the last bar drawn
}

// StartProgress starts showing on w the progress of a task of total units
// named unit (plural, such as "runs"), each line prefixed with the
// program's name. When w is a terminal it draws a bar; otherwise it writes
// a line every interval. Call [Progress.Stop] when the task ends, before
// writing anything else to w.
func StartProgress(w io.Writer, name, unit string, total int64, every time.Duration) *Progress {
	return startProgress(w, name, unit, total, every, isTerminal(w))
}

func startProgress(w io.Writer, name, unit string, total int64, every time.Duration, bar bool) *Progress {
	p := &Progress{w: w, prefix: name, unit: unit, total: total, bar: bar, every: every,
		start: time.Now(), stop: make(chan struct{})}
	if bar {
		p.every = barEvery
	}
	p.wg.Add(1)
	go p.loop()
	return p
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Set records that done units are finished.
func (p *Progress) Set(done int64) { p.done.Store(done) }

// Add records that n more units are finished.
func (p *Progress) Add(n int64) { p.done.Add(n) }

// Stop stops showing progress. If anything was shown, it shows the final
// count (unless it was the last shown) and ends the bar's line. Calls after
// the first do nothing, so Stop may also be deferred.
func (p *Progress) Stop() {
	p.once.Do(func() {
		close(p.stop)
		p.wg.Wait()
		if !p.shown {
			return
		}
		if p.bar || p.done.Load() != p.last {
			p.draw()
		}
		if p.bar {
			fmt.Fprintln(p.w)
		}
	})
}

func (p *Progress) loop() {
	defer p.wg.Done()
	tk := time.NewTicker(p.every)
	defer tk.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-tk.C:
			p.draw()
			p.shown = true
		}
	}
}

// draw writes the bar, or one line.
func (p *Progress) draw() {
	done := p.done.Load()
	p.last = done
	frac := 0.0
	if p.total > 0 {
		frac = min(max(float64(done)/float64(p.total), 0), 1)
	}
	elapsed := time.Since(p.start).Round(100 * time.Millisecond)
	if !p.bar {
		fmt.Fprintf(p.w, "%s: %d/%d %s (%.1f%%), %s\n", p.prefix, done, p.total, p.unit, 100*frac, elapsed)
		return
	}
	const cells = 30
	full := int(frac * cells)
	s := fmt.Sprintf("%s: [%s%s] %3.0f%% %d/%d %s, %s", p.prefix,
		strings.Repeat("#", full), strings.Repeat(".", cells-full), 100*frac, done, p.total, p.unit, elapsed)
	pad := max(p.width-len(s), 0)
	p.width = len(s)
	fmt.Fprintf(p.w, "\r%s%s", s, strings.Repeat(" ", pad))
}
