package crm

import (
	"context"
	"fmt"
	"sync"

	"gorm.io/gorm"
)

// Signal is one community signal that raises members' churn risk, such as
// unresolved questions or removed posts. It is asked about a batch of members at once
// (one query for a refresh of thousands) and reports, for each member it fires for,
// the points it adds and the factor explaining them; members it leaves out (or gives
// 0 points) have none. Other packages provide signals over their own tables; main
// registers them, so a new signal is one Register call.
type Signal func(ctx context.Context, db *gorm.DB, members []int64, p Params) (map[int64]Factor, error)

// Signals is the set of registered churn signals.
type Signals struct {
	mu   sync.RWMutex
	list []namedSignal
}

type namedSignal struct {
	name string
	fn   Signal
}

// Register adds a signal under a name (for logs and tests).
func (s *Signals) Register(name string, fn Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, namedSignal{name, fn})
}

// Names lists the registered signals.
func (s *Signals) Names() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, len(s.list))
	for i, n := range s.list {
		out[i] = n.name
	}
	return out
}

// evaluate runs every signal for the members and returns, per member, those that
// fired, in registration order.
func (s *Signals) evaluate(ctx context.Context, db *gorm.DB, members []int64, p Params) (map[int64][]Factor, error) {
	s.mu.RLock()
	list := append([]namedSignal(nil), s.list...)
	s.mu.RUnlock()
	out := map[int64][]Factor{}
	for _, n := range list {
		fs, err := n.fn(ctx, db, members, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.name, err)
		}
		for _, m := range members { // members' order, not the map's: factors stay in registration order
			if f, ok := fs[m]; ok && f.Points > 0 {
				out[m] = append(out[m], f)
			}
		}
	}
	return out, nil
}
