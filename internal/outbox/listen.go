package outbox

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Reconnection delays of the listener: quick at first, since a dropped connection is
// usually a restart or a failover, then backing off so a database that stays down is
// not hammered.
const (
	minReconnect = 500 * time.Millisecond
	maxReconnect = 30 * time.Second
)

// listen keeps a dedicated connection LISTENing on the outbox channel and signals wake
// for every notification about a topic this worker handles, until ctx is done. It
// reconnects when the connection drops; in the meantime Run keeps polling.
func (w *Worker) listen(ctx context.Context, wake chan<- struct{}) {
	delay := minReconnect
	for {
		listened, err := w.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		if listened {
			delay = minReconnect
		}
		w.log.Warn("outbox: listener lost its connection; polling until it reconnects",
			"err", err, "retry_in", delay)
		// Notifications sent while nobody listened are gone: look once more.
		signal(wake)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, maxReconnect)
	}
}

// listenOnce runs one listening session and returns why it ended; listened reports
// whether LISTEN took effect, which resets the reconnection backoff.
func (w *Worker) listenOnce(ctx context.Context, wake chan<- struct{}) (listened bool, err error) {
	conn, err := pgx.Connect(ctx, w.url)
	if err != nil {
		return false, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return false, err
	}
	// Rows committed before LISTEN took effect notified nobody.
	signal(wake)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		if _, ok := w.handlers[n.Payload]; ok {
			signal(wake)
		}
	}
}

// signal wakes Run without blocking; one pending wake-up is enough, since a round
// claims every due row anyway.
func signal(wake chan<- struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}
