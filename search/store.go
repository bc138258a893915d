package search

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/db"
)

// store is search's door to its own tables (search_*; see migrations/00008_search.sql).
type store struct{ db *gorm.DB }

// lock serialises, until the caller's transaction ends, every handler working on key:
// each reads the database and enqueues its Meilisearch task under the lock, and
// Meilisearch applies one index's tasks in order, so the last read always wins.
func (s *store) lock(ctx context.Context, key string) error {
	if err := db.Conn(ctx, s.db).Exec(`SELECT pg_advisory_xact_lock(hashtextextended(?, 8))`, key).Error; err != nil {
		return fmt.Errorf("search: lock %s: %w", key, err)
	}
	return nil
}

func (s *store) fingerprint(ctx context.Context, key string) (string, error) {
	var fps []string
	err := db.Conn(ctx, s.db).Raw(`SELECT fingerprint FROM search_fanout WHERE lock_key = ?`, key).Scan(&fps).Error
	if err != nil || len(fps) == 0 {
		return "", err
	}
	return fps[0], nil
}

func (s *store) setFingerprint(ctx context.Context, key, fp string) error {
	return db.Conn(ctx, s.db).Exec(`INSERT INTO search_fanout (lock_key, fingerprint) VALUES (?, ?)
		ON CONFLICT (lock_key) DO UPDATE SET fingerprint = excluded.fingerprint, updated_at = now()`, key, fp).Error
}

// forget drops what the fan-out state says was sent under key, so the next change
// rewrites every dependent document.
func (s *store) forget(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	return db.Conn(ctx, s.db).Exec(`DELETE FROM search_fanout WHERE lock_key IN ?`, keys).Error
}

// trackedTask is a Meilisearch task the tracker waits for.
type trackedTask struct {
	TaskUID    int64
	OutboxID   int64
	LockKey    string
	EnqueuedAt time.Time
}

// track records that the tasks uids carry outbox row outboxID (a task sent for a batch
// of rows is tracked once per row, so its failure reopens each).
func (s *store) track(ctx context.Context, outboxID int64, key string, uids []int64) error {
	for _, uid := range uids {
		err := db.Conn(ctx, s.db).Exec(`INSERT INTO search_tasks (task_uid, outbox_id, lock_key) VALUES (?, ?, ?)
			ON CONFLICT (task_uid, outbox_id) DO NOTHING`, uid, outboxID, key).Error
		if err != nil {
			return fmt.Errorf("search: track task %d: %w", uid, err)
		}
	}
	return nil
}

// claimTasks locks up to limit tracked tasks for the caller's transaction; several
// trackers (one per worker process) take disjoint sets.
func (s *store) claimTasks(ctx context.Context, limit int) ([]trackedTask, error) {
	var ts []trackedTask
	err := db.Conn(ctx, s.db).Raw(`SELECT task_uid, outbox_id, lock_key, enqueued_at FROM search_tasks
		ORDER BY task_uid, outbox_id LIMIT ? FOR UPDATE SKIP LOCKED`, limit).Scan(&ts).Error
	return ts, err
}

// untrack forgets the settled (task, outbox row) pairs ts.
func (s *store) untrack(ctx context.Context, ts []trackedTask) error {
	if len(ts) == 0 {
		return nil
	}
	pairs := make([][]any, len(ts))
	for i, t := range ts {
		pairs[i] = []any{t.TaskUID, t.OutboxID}
	}
	return db.Conn(ctx, s.db).Exec(`DELETE FROM search_tasks WHERE (task_uid, outbox_id) IN ?`, pairs).Error
}

func (s *store) trackedCount(ctx context.Context) (int64, error) {
	var n int64
	err := db.Conn(ctx, s.db).Raw(`SELECT count(*) FROM search_tasks`).Row().Scan(&n)
	return n, err
}

// reopen hands a processed outbox row back to the outbox workers because the effect
// its handler started failed after all: the row is due again after delay, keeps its
// attempt count, and is parked like any other row once it reaches maxAttempts.
// A row still in a worker's hands (not yet marked processed) is left alone and
// reported as not reopened; the caller tries again on its next round.
func (s *store) reopen(ctx context.Context, outboxID int64, cause string, delay time.Duration, maxAttempts int) (reopened, parked bool, err error) {
	var rows []struct{ Parked bool }
	err = db.Conn(ctx, s.db).Raw(`UPDATE outbox
		SET processed_at = NULL, last_error = ?, available_at = now() + make_interval(secs => ?),
		    parked_at = CASE WHEN attempts >= ? THEN now() END
		WHERE id = ? AND processed_at IS NOT NULL
		RETURNING parked_at IS NOT NULL AS parked`, cause, delay.Seconds(), maxAttempts, outboxID).Scan(&rows).Error
	if err != nil {
		return false, false, fmt.Errorf("search: reopen outbox row %d: %w", outboxID, err)
	}
	if len(rows) == 0 {
		// Gone (cleaned up long after) or still being handled: tell them apart.
		var n int64
		if err := db.Conn(ctx, s.db).Raw(`SELECT count(*) FROM outbox WHERE id = ?`, outboxID).Row().Scan(&n); err != nil {
			return false, false, err
		}
		return n == 0, false, nil
	}
	return true, rows[0].Parked, nil
}

// outboxAttempts is the attempts count of an outbox row (0 when it is gone).
func (s *store) outboxAttempts(ctx context.Context, id int64) (int, error) {
	var n []int
	err := db.Conn(ctx, s.db).Raw(`SELECT attempts FROM outbox WHERE id = ?`, id).Scan(&n).Error
	if err != nil || len(n) == 0 {
		return 0, err
	}
	return n[0], nil
}

// now is the database clock (reindex compares it with outbox timestamps).
func (s *store) now(ctx context.Context) (time.Time, error) {
	var t time.Time
	err := db.Conn(ctx, s.db).Raw(`SELECT now()`).Row().Scan(&t)
	return t, err
}

// tryLock takes a session-level advisory lock on a connection of its own, for work
// longer than a transaction should be (a rebuild); unlock releases both.
func (s *store) tryLock(ctx context.Context, key string) (unlock func(), err error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("search: lock %s: %w", key, err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 8))`, key).Scan(&ok); err != nil || !ok {
		conn.Close()
		if err == nil {
			err = ErrRebuildRunning
		}
		return nil, err
	}
	return func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtextextended($1, 8))`, key)
		conn.Close()
	}, nil
}

// snapshotCategories records every category's read roles as indexed.
func (s *store) snapshotCategories(ctx context.Context) error {
	return db.Conn(ctx, s.db).Exec(`INSERT INTO search_categories (category_id, read_roles)
		SELECT id, read_roles FROM forum_categories
		ON CONFLICT (category_id) DO UPDATE SET read_roles = excluded.read_roles`).Error
}
