package outbox

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics counts outcomes by topic. The counters always exist, registered or not, so
// the worker never checks for nil.
type metrics struct {
	processed, failed, parked *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, log *slog.Logger) *metrics {
	counter := func(name, help string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hearth", Subsystem: "outbox", Name: name, Help: help,
		}, []string{"topic"})
		if reg == nil {
			return c
		}
		err := reg.Register(c)
		if err == nil {
			return c
		}
		// Several workers in one process share one set of counters.
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing
			}
		}
		// Metrics are optional: a clash must not stop side effects from being delivered.
		log.Warn("outbox: metric not registered", "metric", name, "err", err)
		return c
	}
	return &metrics{
		processed: counter("processed_total", "Outbox rows handled successfully."),
		failed:    counter("failed_total", "Outbox handler failures, each scheduling a retry or parking the row."),
		parked:    counter("parked_total", "Outbox rows parked after MaxAttempts failures."),
	}
}
