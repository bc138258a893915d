package search

import (
	"context"
	"fmt"
	"slices"

	"github.com/lib/pq"

	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/outbox"
)

// SyncCategories notices categories whose read roles changed since search last
// indexed them (the forum writes no outbox row for that) and re-indexes their threads
// through the outbox: each thread's new fingerprint carries the roles, so its replies
// follow. Queries never wait for this: they exclude categories the asker may not read
// from fresh data; this only lets newly allowed readers find the content. A category
// seen for the first time is only recorded: its documents were written with its roles.
func (ix *Indexer) SyncCategories(ctx context.Context) error {
	return db.InTx(ctx, ix.db, func(ctx context.Context) error {
		if err := ix.st.lock(ctx, "search:categories"); err != nil {
			return err
		}
		var rows []struct {
			ID        int64
			ReadRoles pq.StringArray `gorm:"type:text[]"`
			Indexed   pq.StringArray `gorm:"type:text[]"`
			Known     bool
		}
		err := db.Conn(ctx, ix.db).Raw(`SELECT c.id, c.read_roles, s.read_roles AS indexed, s.category_id IS NOT NULL AS known
			FROM forum_categories c LEFT JOIN search_categories s ON s.category_id = c.id
			WHERE s.category_id IS NULL OR s.read_roles <> c.read_roles`).Scan(&rows).Error
		if err != nil {
			return fmt.Errorf("search: compare categories: %w", err)
		}
		for _, r := range rows {
			if r.Known && !slices.Equal(r.ReadRoles, r.Indexed) {
				var ids []int64
				if err := db.Conn(ctx, ix.db).Raw(`SELECT id FROM forum_threads WHERE category_id = ? ORDER BY id`, r.ID).
					Scan(&ids).Error; err != nil {
					return err
				}
				for _, id := range ids {
					if err := outbox.Enqueue(ctx, ix.db, TopicThread, map[string]int64{"thread_id": id}); err != nil {
						return err
					}
				}
				ix.log.Info("search: category read roles changed; re-indexing its threads", "category", r.ID, "threads", len(ids))
			}
			if err := db.Conn(ctx, ix.db).Exec(`INSERT INTO search_categories (category_id, read_roles) VALUES (?, ?)
				ON CONFLICT (category_id) DO UPDATE SET read_roles = excluded.read_roles`, r.ID, r.ReadRoles).Error; err != nil {
				return err
			}
		}
		return nil
	})
}
