package outbox

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// maxErrorLen bounds last_error: it is a hint for an operator, not a log.
const maxErrorLen = 2000

// claimedRow is what the claim returns; Payload is scanned as bytes because the driver
// may hand jsonb back as text, which database/sql cannot put in a json.RawMessage.
type claimedRow struct {
	ID        int64
	Topic     string
	Payload   []byte
	Attempts  int
	CreatedAt time.Time
}

// claim leases up to Batch due rows of this worker's topics in one statement (its own
// short transaction). SKIP LOCKED lets concurrent workers take disjoint rows without
// waiting on each other; pushing available_at past now() is the lease that hides the
// rows from the next claims until it lapses.
func (w *Worker) claim(ctx context.Context) ([]Message, error) {
	var rows []claimedRow
	err := w.gdb.WithContext(ctx).Raw(`
		UPDATE outbox
		SET attempts = attempts + 1,
		    available_at = now() + make_interval(secs => ?)
		WHERE id IN (
			SELECT id FROM outbox
			WHERE processed_at IS NULL AND parked_at IS NULL
			  AND available_at <= now() AND topic IN ?
			ORDER BY id
			LIMIT ?
			FOR UPDATE SKIP LOCKED)
		RETURNING id, topic, payload, attempts, created_at`,
		w.opt.Lease.Seconds(), w.topics, w.opt.Batch).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("outbox: claim: %w", err)
	}
	msgs := make([]Message, len(rows))
	for i, r := range rows {
		msgs[i] = Message{ID: r.ID, Topic: r.Topic, Payload: json.RawMessage(r.Payload),
			Attempts: r.Attempts, CreatedAt: r.CreatedAt}
	}
	// RETURNING has no order; handle oldest first like the claim chose them.
	slices.SortFunc(msgs, func(a, b Message) int { return cmp.Compare(a.ID, b.ID) })
	return msgs, nil
}

// markDone records success. It is not conditioned on the claim: if the lease lapsed
// and another worker took the row, the effect has happened all the same, and that
// worker's outcome will find the row processed and change nothing.
func (w *Worker) markDone(ctx context.Context, m Message) error {
	err := w.gdb.WithContext(ctx).Exec(`
		UPDATE outbox SET processed_at = now()
		WHERE id = ? AND processed_at IS NULL`, m.ID).Error
	if err != nil {
		return fmt.Errorf("outbox: mark %d processed: %w", m.ID, err)
	}
	return nil
}

// markAllDone is markDone for every row of msgs, in one statement.
func (w *Worker) markAllDone(ctx context.Context, msgs []Message) error {
	ids := make([]int64, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	err := w.gdb.WithContext(ctx).Exec(`
		UPDATE outbox SET processed_at = now()
		WHERE id IN ? AND processed_at IS NULL`, ids).Error
	if err != nil {
		return fmt.Errorf("outbox: mark %d rows processed: %w", len(ids), err)
	}
	return nil
}

// markFailed schedules the retry of m after delay, or parks it. It only applies while
// the row still carries this worker's claim (same attempts): a failure reported after
// the lease lapsed must not push back or park another worker's delivery. It reports
// whether the row was updated.
func (w *Worker) markFailed(ctx context.Context, m Message, cause error, delay time.Duration, park bool) (bool, error) {
	res := w.gdb.WithContext(ctx).Exec(`
		UPDATE outbox
		SET last_error = ?,
		    available_at = now() + make_interval(secs => ?),
		    parked_at = CASE WHEN ? THEN now() END
		WHERE id = ? AND attempts = ? AND processed_at IS NULL AND parked_at IS NULL`,
		errorText(cause), delay.Seconds(), park, m.ID, m.Attempts)
	if res.Error != nil {
		return false, fmt.Errorf("outbox: record failure of %d: %w", m.ID, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// release hands claimed but unhandled rows back at once and undoes their attempt, so a
// shutdown or a slow batch neither delays them by a lease nor brings them closer to
// being parked. Rows another worker has claimed since (attempts moved on) are skipped.
func (w *Worker) release(ctx context.Context, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	claims := make([][]any, len(msgs))
	for i, m := range msgs {
		claims[i] = []any{m.ID, m.Attempts}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	err := w.gdb.WithContext(ctx).Exec(`
		UPDATE outbox SET attempts = attempts - 1, available_at = now()
		WHERE (id, attempts) IN ? AND processed_at IS NULL AND parked_at IS NULL`,
		claims).Error
	if err != nil {
		return fmt.Errorf("outbox: release %d claimed rows: %w", len(msgs), err)
	}
	return nil
}

// urlUserinfo matches credentials inside URLs (scheme://user:password@host).
var urlUserinfo = regexp.MustCompile(`://[^/\s:@]+:[^/\s@]+@`)

// errorText makes a handler error fit for last_error: credentials in URLs redacted
// (handler errors often quote the endpoint they called), NUL bytes removed (text
// columns reject them), valid UTF-8, and at most maxErrorLen bytes.
func errorText(err error) string {
	s := urlUserinfo.ReplaceAllString(err.Error(), "://redacted@")
	s = strings.ReplaceAll(s, "\x00", "")
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) > maxErrorLen {
		n := maxErrorLen
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "…"
	}
	return s
}
