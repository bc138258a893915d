package search

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the indexer's counters; they always exist, registered or not.
type metrics struct {
	docs       *prometheus.CounterVec // documents sent, by op
	sendErrors prometheus.Counter     // Meilisearch (or PostgreSQL) refused or was unreachable
	tasks      *prometheus.CounterVec // tracked tasks finished, by outcome
	latency    prometheus.Histogram   // enqueue → finished, for succeeded tasks
}

func newMetrics(reg prometheus.Registerer, log *slog.Logger) *metrics {
	m := &metrics{
		docs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "hearth", Subsystem: "search",
			Name: "documents_sent_total", Help: "Documents sent to the search backend, by op (upsert, delete)."}, []string{"op"}),
		sendErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "hearth", Subsystem: "search",
			Name: "send_errors_total", Help: "Failed attempts to send documents to the search backend (the outbox retries them)."}),
		tasks: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "hearth", Subsystem: "search",
			Name: "tasks_total", Help: "Tracked Meilisearch tasks by outcome (succeeded, failed, lost); failed and lost ones are retried."}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "hearth", Subsystem: "search",
			Name: "task_seconds", Help: "Time from enqueueing a Meilisearch task to its success (write-to-searchable).",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}),
	}
	if reg == nil {
		return m
	}
	// Several indexers in one process share one set of collectors.
	m.docs = register(reg, log, m.docs)
	m.sendErrors = register(reg, log, m.sendErrors)
	m.tasks = register(reg, log, m.tasks)
	m.latency = register(reg, log, m.latency)
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, log *slog.Logger, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	log.Warn("search: metric not registered", "err", err)
	return c
}
