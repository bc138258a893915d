package crm

import (
	"context"
	"sync"

	"gorm.io/gorm"
)

// Signal is one community signal that raises a member's churn risk, such as
// unresolved questions or removed posts. It reports the points it adds (0 for none)
// and the factor explaining them. Other packages provide signals over their own
// tables; main registers them, so a new signal is one Register call.
type Signal func(ctx context.Context, db *gorm.DB, memberID int64, p Params) (Factor, error)

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

// evaluate runs every signal for a member and returns those that fired.
func (s *Signals) evaluate(ctx context.Context, db *gorm.DB, member int64, p Params) ([]Factor, error) {
	s.mu.RLock()
	list := append([]namedSignal(nil), s.list...)
	s.mu.RUnlock()
	var out []Factor
	for _, n := range list {
		f, err := n.fn(ctx, db, member, p)
		if err != nil {
			return nil, err
		}
		if f.Points > 0 {
			out = append(out, f)
		}
	}
	return out, nil
}
