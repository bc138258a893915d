package auth

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/db"
)

// store is the only code in auth that touches SQL.
type store struct{ db *gorm.DB }

var errNotFound = errors.New("auth: not found")

func (s store) insertUser(ctx context.Context, u *User) error {
	return db.Conn(ctx, s.db).Create(u).Error
}

func (s store) userByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	err := db.Conn(ctx, s.db).Where("lower(email) = lower(?)", email).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errNotFound
	}
	return &u, err
}

func (s store) userByID(ctx context.Context, id int64) (*User, error) {
	var u User
	err := db.Conn(ctx, s.db).Take(&u, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errNotFound
	}
	return &u, err
}

func (s store) setPassword(ctx context.Context, id int64, hash string) error {
	return db.Conn(ctx, s.db).Model(&User{}).Where("id = ?", id).
		Updates(map[string]any{"password_hash": hash, "updated_at": time.Now()}).Error
}

func (s store) updateProfile(ctx context.Context, id int64, cols map[string]any) error {
	cols["updated_at"] = time.Now()
	return db.Conn(ctx, s.db).Model(&User{}).Where("id = ?", id).Updates(cols).Error
}

func (s store) handleTaken(ctx context.Context, handle string) (bool, error) {
	var n int64
	err := db.Conn(ctx, s.db).Raw("SELECT count(*) FROM users WHERE lower(handle) = lower(?)", handle).Scan(&n).Error
	return n > 0, err
}

// UserByHandle finds an account by its @handle.
func (s *Service) UserByHandle(ctx context.Context, handle string) (*User, error) {
	var u User
	err := db.Conn(ctx, s.db).Where("lower(handle) = lower(?)", handle).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.New(apperr.NotFound, "error.not_found")
	}
	return &u, err
}

func (s store) partnerExists(ctx context.Context, id int64) (bool, error) {
	var n int64
	err := db.Conn(ctx, s.db).Raw("SELECT count(*) FROM partner_companies WHERE id = ?", id).Scan(&n).Error
	return n > 0, err
}

// refreshRow is one stored refresh token.
type refreshRow struct {
	ID        int64
	UserID    int64
	FamilyID  uuid.UUID
	ExpiresAt time.Time
	RotatedAt *time.Time
	RevokedAt *time.Time
}

func (s store) insertRefresh(ctx context.Context, userID int64, family uuid.UUID, hash []byte, exp time.Time) error {
	return db.Conn(ctx, s.db).Exec(
		`INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) VALUES (?, ?, ?, ?)`,
		userID, family, hash, exp).Error
}

// lockRefresh reads a refresh token row FOR UPDATE, so that two refreshes with the
// same token are serialised and the second one sees the first one's rotation.
func (s store) lockRefresh(ctx context.Context, hash []byte) (*refreshRow, error) {
	var r refreshRow
	res := db.Conn(ctx, s.db).Raw(
		`SELECT id, user_id, family_id, expires_at, rotated_at, revoked_at
		   FROM refresh_tokens WHERE token_hash = ? FOR UPDATE`, hash).Scan(&r)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, errNotFound
	}
	return &r, nil
}

func (s store) markRotated(ctx context.Context, id int64) error {
	return db.Conn(ctx, s.db).Exec(`UPDATE refresh_tokens SET rotated_at = now() WHERE id = ?`, id).Error
}

func (s store) revokeFamily(ctx context.Context, family uuid.UUID) error {
	return db.Conn(ctx, s.db).Exec(
		`UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = ? AND revoked_at IS NULL`, family).Error
}

func (s store) revokeUser(ctx context.Context, userID int64) error {
	return db.Conn(ctx, s.db).Exec(
		`UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = ? AND revoked_at IS NULL`, userID).Error
}

// hit counts one event against key in the current fixed window and returns the count.
// The counter lives in PostgreSQL so every `hearth serve` instance shares it.
func (s store) hit(ctx context.Context, key string, window time.Duration) (int, error) {
	var hits int
	err := db.Conn(ctx, s.db).Raw(
		`INSERT INTO rate_limits (key, window_start, hits) VALUES (?, ?, 1)
		 ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limits.hits + 1
		 RETURNING hits`, key, windowStart(window)).Scan(&hits).Error
	return hits, err
}

func (s store) hits(ctx context.Context, key string, window time.Duration) (int, error) {
	var hits int
	err := db.Conn(ctx, s.db).Raw(
		`SELECT coalesce(max(hits), 0) FROM rate_limits WHERE key = ? AND window_start = ?`,
		key, windowStart(window)).Scan(&hits).Error
	return hits, err
}

func windowStart(window time.Duration) time.Time { return time.Now().UTC().Truncate(window) }

// PurgeRateLimits deletes expired rate-limit windows; the worker calls it periodically.
func PurgeRateLimits(ctx context.Context, gdb *gorm.DB, olderThan time.Duration) (int64, error) {
	res := gdb.WithContext(ctx).Exec(`DELETE FROM rate_limits WHERE window_start < ?`, time.Now().Add(-olderThan))
	return res.RowsAffected, res.Error
}
