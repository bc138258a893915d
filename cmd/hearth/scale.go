package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/hearth-community/hearth/internal/app"
	"github.com/hearth-community/hearth/internal/demo"
	"github.com/hearth-community/hearth/internal/scale"
)

// maxScale keeps a typo (--scale 1000) from filling the disk for a day.
const maxScale = 50

// runSeedScale is `hearth seed --scale N`: the demo community (for its categories),
// then N × (100,000 members, 100,000 threads, 1,000,000 posts) of generated forum
// for load tests, with a progress bar per step. It refuses a database that already
// holds generated data.
func runSeedScale(ctx context.Context, e *env, n float64, stdout io.Writer) error {
	if !(n > 0 && n <= maxScale) {
		return fmt.Errorf("--scale: %v is not between 0 and %d (1 = 1,000,000 posts)", n, maxScale)
	}
	if err := e.migrate(ctx, nil); err != nil {
		return err
	}
	a, err := app.Build(app.Deps{Config: e.cfg, DB: e.db, Search: e.search, Logger: e.log})
	if err != nil {
		return err
	}
	if err := demo.Seed(ctx, a.Auth, a.Forums, a.Partners, io.Discard); err != nil {
		return err
	}
	s := scale.Of(n)
	fmt.Fprintf(stdout, "Generating %d members, %d threads and %d posts (scale %v)\n", s.Members, s.Threads, s.Posts(), n)
	p := &progress{w: stdout}
	start := time.Now()
	err = scale.Generate(ctx, e.db, s, p.report)
	p.finish()
	if err != nil {
		return err
	}
	var counts struct{ Members, Threads, Posts int64 }
	err = e.db.WithContext(ctx).Raw(`SELECT (SELECT count(*) FROM users) AS members,
	        (SELECT count(*) FROM forum_threads) AS threads, (SELECT count(*) FROM forum_posts) AS posts`).
		Scan(&counts).Error
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Done in %s. The database now holds %d users, %d threads and %d posts.\n",
		time.Since(start).Round(100*time.Millisecond), counts.Members, counts.Threads, counts.Posts)
	fmt.Fprintf(stdout, "Generated members log in as gen-<n>@%s with password %q.\n", scale.EmailDomain, scale.Password)
	return nil
}

// progress shows one bar per generator step and, when a step ends, a line with its
// duration (which is what remains readable when stdout is a log file).
type progress struct {
	w     io.Writer
	step  string
	start time.Time
	bar   *progressbar.ProgressBar
}

func (p *progress) report(step string, done, total int64) {
	if step != p.step {
		p.finish()
		p.step, p.start = step, time.Now()
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(fmt.Sprintf("%-20s", step)),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("rows"),
			progressbar.OptionThrottle(250*time.Millisecond),
			progressbar.OptionSetPredictTime(true))
	}
	_ = p.bar.Set64(done)
}

func (p *progress) finish() {
	if p.bar == nil {
		return
	}
	_ = p.bar.Finish()
	fmt.Fprintf(p.w, "\n  %s: %s\n", p.step, time.Since(p.start).Round(100*time.Millisecond))
	p.bar = nil
}
