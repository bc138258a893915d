package crm

import (
	"context"
	"sync"
	"time"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/db"
)

// Exporter contributes one section of a member's data export (their posts, their
// account …). Other packages provide exporters over their own tables; main registers them.
type Exporter func(ctx context.Context, member int64) (any, error)

// Eraser removes a member's personal data from one package's tables, inside the
// erasure transaction carried by ctx.
type Eraser func(ctx context.Context, member int64) error

// Privacy holds the registered exporters and erasers.
type Privacy struct {
	mu        sync.RWMutex
	exporters map[string]Exporter
	erasers   []Eraser
}

// RegisterExporter adds a named section to every data export.
func (p *Privacy) RegisterExporter(name string, fn Exporter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exporters == nil {
		p.exporters = map[string]Exporter{}
	}
	p.exporters[name] = fn
}

// RegisterEraser adds a step to every erasure.
func (p *Privacy) RegisterEraser(fn Eraser) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.erasers = append(p.erasers, fn)
}

// Export is everything Hearth holds about a member, for them to download.
func (s *Service) Export(ctx context.Context, a Actor, pv *Privacy) (map[string]any, error) {
	if a.ID == 0 {
		return nil, apperr.New(apperr.Unauthenticated, "error.unauthenticated")
	}
	m, err := s.Member(ctx, a, a.ID)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"exported_at": s.now().UTC().Format(time.RFC3339), "identity": m.Identity,
		"profile": m.Profile, "explanation": m.Explanation, "lifecycle_history": m.History}
	var events []TimelineEvent
	if err := db.Conn(ctx, s.db).Raw(`SELECT kind, subject_type, subject_id, weight, value, occurred_at FROM crm_events WHERE member_id = ? ORDER BY occurred_at`, a.ID).
		Scan(&events).Error; err != nil {
		return nil, err
	}
	out["events"] = events
	var purchases []map[string]any
	if err := db.Conn(ctx, s.db).Raw(`SELECT external_id, amount, currency, source, occurred_at FROM crm_purchases WHERE member_id = ? ORDER BY occurred_at`, a.ID).
		Scan(&purchases).Error; err != nil {
		return nil, err
	}
	out["purchases"] = purchases
	pv.mu.RLock()
	defer pv.mu.RUnlock()
	for name, fn := range pv.exporters {
		v, err := fn(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

// Erase removes a member's personal data in one transaction: the registered erasers
// (the account becomes a "former member" whose posts stay readable), staff notes,
// external ids and attributes; the profile is marked erased, which takes it out of
// every segment, dashboard and count.
func (s *Service) Erase(ctx context.Context, a Actor, pv *Privacy) error {
	if a.ID == 0 {
		return apperr.New(apperr.Unauthenticated, "error.unauthenticated")
	}
	return db.InTx(ctx, s.db, func(ctx context.Context) error {
		pv.mu.RLock()
		erasers := append([]Eraser(nil), pv.erasers...)
		pv.mu.RUnlock()
		for _, fn := range erasers {
			if err := fn(ctx, a.ID); err != nil {
				return err
			}
		}
		conn := db.Conn(ctx, s.db)
		if err := conn.Exec(`DELETE FROM crm_notes WHERE member_id = ?`, a.ID).Error; err != nil {
			return err
		}
		if err := conn.Exec(`INSERT INTO crm_profiles (member_id) VALUES (?) ON CONFLICT DO NOTHING`, a.ID).Error; err != nil {
			return err
		}
		return conn.Exec(`UPDATE crm_profiles SET erased = true, external_id = NULL, attributes = '{}', interests = '{}',
		                  interest_weights = '{}', factors = '{}', consent_email = false, consent_inapp = false,
		                  core_member = false, advocate = false, updated_at = now() WHERE member_id = ?`, a.ID).Error
	})
}
