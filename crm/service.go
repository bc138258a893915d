package crm

import (
	"time"

	"gorm.io/gorm"
)

// Service holds the CRM use cases: profiles, scores, timelines, consent and privacy.
type Service struct {
	db      *gorm.DB
	params  Params
	signals *Signals
	now     func() time.Time
}

// NewService returns the CRM service with the model's parameters and the churn
// signals main registered.
func NewService(gdb *gorm.DB, p Params, signals *Signals) *Service {
	if signals == nil {
		signals = &Signals{}
	}
	return &Service{db: gdb, params: p, signals: signals, now: time.Now}
}

// Params returns the model parameters in use.
func (s *Service) Params() Params { return s.params }
