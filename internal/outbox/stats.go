package outbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// cleanupBatch keeps each DELETE of Cleanup short, so it never holds many row locks
// or a long transaction next to the workers.
const cleanupBatch = 5000

// Stats reports how many rows await delivery (including rows in backoff, leased, or of
// topics no running worker handles) and how many are parked awaiting an operator. A
// growing pending count means workers are down or too slow; any parked row means a
// handler keeps failing.
func Stats(ctx context.Context, gdb *gorm.DB) (pending, parked int64, err error) {
	var row struct{ Pending, Parked int64 }
	err = gdb.WithContext(ctx).Raw(`
		SELECT
		  (SELECT count(*) FROM outbox WHERE processed_at IS NULL AND parked_at IS NULL) AS pending,
		  (SELECT count(*) FROM outbox WHERE parked_at IS NOT NULL) AS parked`).Scan(&row).Error
	if err != nil {
		return 0, 0, fmt.Errorf("outbox: stats: %w", err)
	}
	return row.Pending, row.Parked, nil
}

// Cleanup deletes rows processed more than olderThan ago and returns how many. Parked
// rows are kept: they are evidence until an operator deals with them. Processed rows
// are only worth keeping for a while to answer "did this effect happen?".
func Cleanup(ctx context.Context, gdb *gorm.DB, olderThan time.Duration) (int64, error) {
	if olderThan <= 0 {
		return 0, errors.New("outbox: cleanup needs a positive age")
	}
	var total int64
	for {
		res := gdb.WithContext(ctx).Exec(`
			DELETE FROM outbox WHERE id IN (
				SELECT id FROM outbox
				WHERE processed_at < now() - make_interval(secs => ?)
				LIMIT ?)`, olderThan.Seconds(), cleanupBatch)
		if res.Error != nil {
			return total, fmt.Errorf("outbox: cleanup: %w", res.Error)
		}
		total += res.RowsAffected
		if res.RowsAffected < cleanupBatch {
			return total, nil
		}
	}
}
