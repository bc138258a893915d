package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// runBenchSearchWrites is `hearth bench-search-writes` (hidden; scripts/bench-search.sh
// runs it): write-to-searchable latency under a steady stream of replies. It writes
// --rate replies a second, open loop (on a schedule, not waiting for the previous
// answer), through POST /api/v1/threads/{id}/posts into random threads from --threads,
// as random members from --tokens, each reply carrying a word of its own. Every
// --probe-every-th reply is then searched for through GET /api/v1/search (as a visitor)
// every --poll (2.5 times less often after 1 s, 10 times after 5 s) until its document
// is a hit. The latency runs from sending the write to the first answer that finds it,
// so it includes the write; a probe never found counts as --timeout. At the end every
// reply's word is searched for once more, to count any never found.
func runBenchSearchWrites(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench-search-writes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("base", "", "Hearth's URL, e.g. http://127.0.0.1:8080")
	tokensFile := fs.String("tokens", "", "file of members' access tokens, one a line")
	threadsFile := fs.String("threads", "", "file of thread ids to reply to, one a line")
	rate := fs.Float64("rate", 50, "replies written per second")
	duration := fs.Duration("duration", 60*time.Second, "how long to write")
	probeEvery := fs.Int("probe-every", 1, "search for every n-th reply until found")
	poll := fs.Duration("poll", 100*time.Millisecond, "interval between searches for one reply")
	timeout := fs.Duration("timeout", 30*time.Second, "give up on a reply not found after this")
	raw := fs.String("raw", "", "file for the probes, one a line: sent_at_ms latency_ms write_ms polls (latency -1: never found)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *base == "" || *tokensFile == "" || *threadsFile == "" || *rate <= 0 || *probeEvery < 1 {
		return errors.New("bench-search-writes: --base, --tokens, --threads and a positive --rate are required")
	}
	threads, err := readIDs(*threadsFile)
	if err != nil {
		return err
	}
	tokens, err := readLines(*tokensFile)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DisableCompression: true, MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	start := time.Now()
	b := &writeBench{hc: hc, base: strings.TrimRight(*base, "/"), poll: *poll, timeout: *timeout, start: start}

	// Open loop: reply i is due at start + i/rate whatever happened to the earlier ones.
	interval := time.Duration(float64(time.Second) / *rate)
	n := int(duration.Seconds() * *rate)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			b.one(ctx, tokens[mrand.IntN(len(tokens))], threads[mrand.IntN(len(threads))], i%*probeEvery == 0)
		}(i)
	}
	writeSpan := time.Since(start)
	wg.Wait()

	// Everything written must be findable in the end, probed or not.
	time.Sleep(2 * time.Second)
	missing := 0
	for _, w := range b.written {
		if ok, err := b.found(ctx, w.word, w.doc); err != nil || !ok {
			missing++
		}
	}

	lat := make([]float64, 0, len(b.probes))
	wlat := make([]float64, 0, len(b.written))
	timedOut, polls := 0, 0
	var rawOut strings.Builder
	slices.SortFunc(b.probes, func(x, y probe) int { return cmp.Compare(x.at, y.at) })
	for _, p := range b.probes {
		polls += p.polls
		fmt.Fprintf(&rawOut, "%.0f %.1f %.1f %d\n", p.at, p.ms, p.writeMs, p.polls)
		if p.ms < 0 {
			// Counted at the timeout, a lower bound, so that percentiles do not improve
			// by losing their slowest probes.
			timedOut++
			lat = append(lat, ms(*timeout))
			continue
		}
		lat = append(lat, p.ms)
	}
	for _, w := range b.written {
		wlat = append(wlat, w.ms)
	}
	if *raw != "" {
		if err := os.WriteFile(*raw, []byte(rawOut.String()), 0o644); err != nil {
			return err
		}
	}
	slices.Sort(lat)
	slices.Sort(wlat)
	achieved := float64(len(b.written)) / writeSpan.Seconds()
	fmt.Fprintf(stdout, "writes: %d sent in %.1f s, %d answered 201 (%.1f/s), %d failed%s\n",
		n, writeSpan.Seconds(), len(b.written), achieved, b.failed, b.firstErr())
	fmt.Fprintf(stdout, "write latency (201): p50 %.0f ms, p95 %.0f ms, p99 %.0f ms\n", pct(wlat, 50), pct(wlat, 95), pct(wlat, 99))
	fmt.Fprintf(stdout, "write-to-searchable: %d probes, p50 %.0f ms, p95 %.0f ms, p99 %.0f ms, max %.0f ms; %d not found within %s; %d searches (%.0f/s)\n",
		len(b.probes), pct(lat, 50), pct(lat, 95), pct(lat, 99), pct(lat, 100), timedOut, *timeout, polls, float64(polls)/writeSpan.Seconds())
	fmt.Fprintf(stdout, "at the end: %d of %d replies not found\n", missing, len(b.written))
	fmt.Fprintf(stdout, "RESULT sent=%d ok=%d failed=%d rate=%.1f w50=%.0f w95=%.0f w99=%.0f probes=%d p50=%.0f p95=%.0f p99=%.0f max=%.0f timeout=%d missing=%d polls_per_s=%.0f\n",
		n, len(b.written), b.failed, achieved, pct(wlat, 50), pct(wlat, 95), pct(wlat, 99), len(b.probes),
		pct(lat, 50), pct(lat, 95), pct(lat, 99), pct(lat, 100), timedOut, missing, float64(polls)/writeSpan.Seconds())
	return nil
}

type writeBench struct {
	hc            *http.Client
	base          string
	poll, timeout time.Duration
	start         time.Time

	mu      sync.Mutex
	written []written
	probes  []probe
	failed  int
	errs    []string
}

type written struct {
	word, doc string
	ms        float64
}

// probe is one reply searched for: sent at ms after the start, found ms after that
// (-1: never within the timeout).
type probe struct {
	at, ms, writeMs float64
	polls           int
}

func (b *writeBench) one(ctx context.Context, token string, thread int64, probed bool) {
	word := randomWord()
	t0 := time.Now()
	id, err := b.reply(ctx, token, thread, word)
	writeMs := ms(time.Since(t0))
	b.mu.Lock()
	if err != nil {
		b.failed++
		if len(b.errs) < 3 {
			b.errs = append(b.errs, err.Error())
		}
		b.mu.Unlock()
		return
	}
	doc := "post-" + strconv.FormatInt(id, 10)
	b.written = append(b.written, written{word: word, doc: doc, ms: writeMs})
	b.mu.Unlock()
	if !probed {
		return
	}
	p := probe{at: ms(t0.Sub(b.start)), ms: -1, writeMs: writeMs}
	for time.Since(t0) < b.timeout {
		p.polls++
		if ok, _ := b.found(ctx, word, doc); ok {
			p.ms = ms(time.Since(t0))
			break
		}
		// Fine-grained where the targets are (1 s, 5 s), coarser beyond: slow probes
		// must not flood the server they measure.
		wait := b.poll
		switch since := time.Since(t0); {
		case since > 5*time.Second:
			wait = 10 * b.poll
		case since > time.Second:
			wait = b.poll * 5 / 2
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return
		}
	}
	b.mu.Lock()
	b.probes = append(b.probes, p)
	b.mu.Unlock()
}

func (b *writeBench) reply(ctx context.Context, token string, thread int64, word string) (int64, error) {
	body, _ := json.Marshal(map[string]string{"body": "Bench reply " + word + ": checking how soon a new reply can be found."})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.base+"/api/v1/threads/"+strconv.FormatInt(thread, 10)+"/posts", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := b.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("reply to thread %d: %s %.200s", thread, resp.Status, data)
	}
	var p struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(data, &p); err != nil || p.ID == 0 {
		return 0, fmt.Errorf("reply to thread %d: no id in %.200s", thread, data)
	}
	return p.ID, nil
}

// found reports whether searching for word (as a visitor) finds document doc; typo
// tolerance may find other documents too, so the id is checked.
func (b *writeBench) found(ctx context.Context, word, doc string) (bool, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.base+"/api/v1/search?per_page=5&q="+url.QueryEscape(word), nil)
	resp, err := b.hc.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return false, fmt.Errorf("search: %s", resp.Status)
	}
	var res struct {
		Hits []struct {
			ID string `json:"id"`
		} `json:"hits"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return false, err
	}
	for _, h := range res.Hits {
		if h.ID == doc {
			return true, nil
		}
	}
	return false, nil
}

func (b *writeBench) firstErr() string {
	if len(b.errs) == 0 {
		return ""
	}
	return " (first: " + strings.Join(b.errs, "; ") + ")"
}

// randomWord is 12 random letters: one token to Meilisearch's tokenizer, and too far
// from any other word for typo tolerance to confuse them.
func randomWord() string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	w := make([]byte, 12)
	for i := range w {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(letters))))
		w[i] = letters[n.Int64()]
	}
	return "zq" + string(w)
}

func readIDs(path string) ([]int64, error) {
	lines, err := readLines(path)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(lines))
	for i, s := range lines {
		if ids[i], err = strconv.ParseInt(s, 10, 64); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return ids, nil
}

// readLines returns the non-empty lines of path; none is an error.
func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			out = append(out, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: empty", path)
	}
	return out, nil
}

// pct is the nearest-rank percentile p of sorted values (0 when empty).
func pct(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
