// Package db opens Hearth's PostgreSQL connection through GORM, applies the embedded
// migrations, and carries a transaction in a context.Context so that nested use cases
// reuse the caller's transaction.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Open connects to url with a bounded pool and GORM's error translation on.
func Open(ctx context.Context, url string, maxConns int) (*gorm.DB, error) {
	if maxConns <= 0 {
		maxConns = 20
	}
	sqlDB, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB.SetMaxOpenConns(maxConns)
	sqlDB.SetMaxIdleConns(maxConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	gdb, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{
		TranslateError:         true,
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
		Logger:                 logger.Discard,
	})
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("gorm: %w", err)
	}
	return gdb, nil
}

// Close closes the pool under gdb.
func Close(gdb *gorm.DB) error {
	sqlDB, err := gdb.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks the database answers within ctx.
func Ping(ctx context.Context, gdb *gorm.DB) error {
	sqlDB, err := gdb.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// driverName keeps the pgx stdlib driver registered for database/sql users.
var _ = stdlib.GetDefaultDriver

type txKey struct{}

// Conn returns the transaction carried by ctx, or base; always bound to ctx.
// Every query starts here, so a reused chain never leaks conditions.
func Conn(ctx context.Context, base *gorm.DB) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx.WithContext(ctx)
	}
	return base.WithContext(ctx)
}

// InTx runs fn in a transaction. If ctx already carries one, fn joins it, so a use case
// may call another without nesting transactions. fn receives a ctx carrying the
// transaction; anything it writes through Conn(ctx, …) commits or rolls back together.
func InTx(ctx context.Context, base *gorm.DB, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return fn(ctx)
	}
	return base.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(context.WithValue(ctx, txKey{}, tx))
	})
}

// InTransaction reports whether ctx carries a transaction; helpers that must be
// atomic with the caller's change (outbox, engagement events) insist on one.
func InTransaction(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(*gorm.DB)
	return ok
}

// ErrPgxInTx: Pgx was called with a transaction in ctx, whose connection it cannot reach.
var ErrPgxInTx = errors.New("db: Pgx cannot join the transaction in ctx")

// Pgx runs fn on one pgx connection of gdb's pool. It is for the hot read paths
// (thread pages, thread lists): they scan typed columns without GORM's reflection and
// can send several statements in one round trip (pgx.Batch); pgx also keeps their
// prepared statements per connection. It never runs inside a transaction (it returns
// ErrPgxInTx): writes and reads that must see them go through Conn.
func Pgx(ctx context.Context, gdb *gorm.DB, fn func(conn *pgx.Conn) error) error {
	if InTransaction(ctx) {
		return ErrPgxInTx
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return err
	}
	c, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("db: driver connection is %T, not pgx", dc)
		}
		return fn(sc.Conn())
	})
}
