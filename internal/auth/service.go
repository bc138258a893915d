package auth

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/apperr"
	"github.com/hearth-community/hearth/internal/db"
)

// Limits bound log-in attempts. Failures count per account, attempts per address; both
// in fixed windows kept in PostgreSQL.
type Limits struct {
	AccountFailures int
	AddressAttempts int
	Window          time.Duration
}

// DefaultLimits: 5 wrong passwords per account or 30 attempts per address per 15 minutes.
var DefaultLimits = Limits{AccountFailures: 5, AddressAttempts: 30, Window: 15 * time.Minute}

// Service holds the account and session use cases.
type Service struct {
	db         *gorm.DB
	store      store
	Signer     *Signer
	hasher     Hasher
	refreshTTL time.Duration
	limits     Limits
	dummyOnce  sync.Once
	dummy      string
}

// NewService builds the auth service.
func NewService(gdb *gorm.DB, signer *Signer, hasher Hasher, refreshTTL time.Duration, limits Limits) *Service {
	return &Service{db: gdb, store: store{gdb}, Signer: signer, hasher: hasher, refreshTTL: refreshTTL, limits: limits}
}

var (
	errBadCredentials = apperr.New(apperr.Unauthenticated, "auth.err.bad_credentials")
	errRefreshInvalid = apperr.New(apperr.Unauthenticated, "auth.err.refresh_invalid")
)

// Register creates a member account, appends the member's first engagement event in
// the same transaction, and logs them in.
func (s *Service) Register(ctx context.Context, in NewAccount) (*User, *Tokens, error) {
	in.Role, in.PartnerID = RoleMember, nil
	u, err := s.CreateUser(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	t, err := s.startSession(ctx, u)
	return u, t, err
}

// CreateUser creates an account of any role (admin tools, `hearth user create`, seed).
func (s *Service) CreateUser(ctx context.Context, in NewAccount) (*User, error) {
	in.Normalize()
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if in.PartnerID != nil {
		ok, err := s.store.partnerExists(ctx, *in.PartnerID)
		if err != nil {
			return nil, fmt.Errorf("check partner: %w", err)
		}
		if !ok {
			return nil, apperr.New(apperr.Invalid, "error.invalid").WithField("partner", "field.partner_unknown")
		}
	}
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	u := &User{Email: in.Email, PasswordHash: hash, DisplayName: in.DisplayName, Role: in.Role,
		PartnerID: in.PartnerID, Locale: in.Locale}
	// The handle is derived from the e-mail; a clash (rare, and possible between our
	// check and the insert) is retried with a numbered variant.
	for attempt := 0; ; attempt++ {
		if u.Handle, err = s.freeHandle(ctx, HandleFrom(in.Email), attempt); err != nil {
			return nil, err
		}
		err = db.InTx(ctx, s.db, func(ctx context.Context) error {
			if err := s.store.insertUser(ctx, u); err != nil {
				return err
			}
			return crm.Append(ctx, s.db, crm.Event{MemberID: u.ID, Kind: crm.KindRegistered, SubjectType: "user", SubjectID: u.ID})
		})
		if err == nil {
			return u, nil
		}
		if !errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, fmt.Errorf("insert user: %w", err)
		}
		if _, ferr := s.store.userByEmail(ctx, in.Email); ferr == nil || attempt >= 3 {
			return nil, apperr.Wrap(apperr.Conflict, "auth.err.email_taken", err).WithField("email", "auth.err.email_taken")
		}
		u.ID = 0
	}
}

// freeHandle returns base, or base with a number, that no account uses yet.
func (s *Service) freeHandle(ctx context.Context, base string, attempt int) (string, error) {
	cand := base
	for i := 0; i < 20; i++ {
		if i > 0 || attempt > 0 {
			cand = fmt.Sprintf("%s%d", base, 1+rand.IntN(9999))
		}
		taken, err := s.store.handleTaken(ctx, cand)
		if err != nil {
			return "", fmt.Errorf("check handle: %w", err)
		}
		if !taken {
			return cand, nil
		}
	}
	return "", fmt.Errorf("no free handle for %q", base)
}

// Login checks the password and starts a session. It is rate limited per address and
// per account; an unknown e-mail costs as long as a wrong password.
func (s *Service) Login(ctx context.Context, email, password, addr string) (*User, *Tokens, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	f := apperr.Fields{}
	if email == "" {
		f.Add("email", "field.required")
	}
	if password == "" {
		f.Add("password", "field.required")
	}
	if err := f.Err(); err != nil {
		return nil, nil, err
	}
	acctKey, addrKey := "login:account:"+email, "login:address:"+addr
	n, err := s.store.hit(ctx, addrKey, s.limits.Window)
	if err != nil {
		return nil, nil, fmt.Errorf("rate limit: %w", err)
	}
	if n > s.limits.AddressAttempts {
		return nil, nil, apperr.New(apperr.RateLimited, "error.rate_limited")
	}
	if n, err = s.store.hits(ctx, acctKey, s.limits.Window); err != nil {
		return nil, nil, fmt.Errorf("rate limit: %w", err)
	}
	if n >= s.limits.AccountFailures {
		return nil, nil, apperr.New(apperr.RateLimited, "error.rate_limited")
	}
	u, err := s.store.userByEmail(ctx, email)
	if err != nil && !errors.Is(err, errNotFound) {
		return nil, nil, fmt.Errorf("find user: %w", err)
	}
	ok := false
	if u != nil {
		ok, err = s.hasher.Check(u.PasswordHash, password)
		if err != nil && !ok {
			return nil, nil, fmt.Errorf("check password: %w", err)
		}
	} else {
		_, _ = s.hasher.Check(s.dummyHash(), password)
	}
	if !ok {
		if _, err := s.store.hit(ctx, acctKey, s.limits.Window); err != nil {
			return nil, nil, fmt.Errorf("rate limit: %w", err)
		}
		return nil, nil, errBadCredentials
	}
	t, err := s.startSession(ctx, u)
	return u, t, err
}

func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() { s.dummy, _ = s.hasher.Hash("hearth-timing-equaliser") })
	return s.dummy
}

// startSession opens a new refresh-token family for u and records the log-in event.
func (s *Service) startSession(ctx context.Context, u *User) (*Tokens, error) {
	var t *Tokens
	err := db.InTx(ctx, s.db, func(ctx context.Context) error {
		var err error
		if t, err = s.issue(ctx, u, uuid.New()); err != nil {
			return err
		}
		return crm.Append(ctx, s.db, crm.Event{MemberID: u.ID, Kind: crm.KindLoggedIn, SubjectType: "user", SubjectID: u.ID})
	})
	return t, err
}

func (s *Service) issue(ctx context.Context, u *User, family uuid.UUID) (*Tokens, error) {
	access, exp, err := s.Signer.Issue(u)
	if err != nil {
		return nil, fmt.Errorf("sign token: %w", err)
	}
	refresh, hash, err := newRefreshToken()
	if err != nil {
		return nil, err
	}
	if err := s.store.insertRefresh(ctx, u.ID, family, hash, time.Now().Add(s.refreshTTL)); err != nil {
		return nil, fmt.Errorf("store refresh token: %w", err)
	}
	return &Tokens{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(time.Until(exp).Seconds() + 0.5),
		ExpiresAt: exp, RefreshToken: refresh}, nil
}

// Refresh rotates a refresh token: the presented one is spent and a new one in the same
// family is returned with a fresh access token. Presenting a spent token again means it
// was copied, so the whole family is revoked (both the thief's and the owner's copies).
func (s *Service) Refresh(ctx context.Context, token string) (*User, *Tokens, error) {
	if token == "" {
		return nil, nil, apperr.New(apperr.Invalid, "error.invalid").WithField("refresh_token", "field.required")
	}
	var (
		u      *User
		t      *Tokens
		reused bool
	)
	err := db.InTx(ctx, s.db, func(ctx context.Context) error {
		row, err := s.store.lockRefresh(ctx, hashRefresh(token))
		if errors.Is(err, errNotFound) {
			return errRefreshInvalid
		}
		if err != nil {
			return fmt.Errorf("read refresh token: %w", err)
		}
		switch {
		case row.RevokedAt != nil:
			return errRefreshInvalid
		case row.RotatedAt != nil:
			reused = true // commit the revocation, then refuse
			return s.store.revokeFamily(ctx, row.FamilyID)
		case time.Now().After(row.ExpiresAt):
			return errRefreshInvalid
		}
		if u, err = s.store.userByID(ctx, row.UserID); err != nil {
			return errRefreshInvalid
		}
		if err := s.store.markRotated(ctx, row.ID); err != nil {
			return err
		}
		t, err = s.issue(ctx, u, row.FamilyID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if reused {
		return nil, nil, errRefreshInvalid
	}
	return u, t, nil
}

// Logout revokes the session (the refresh token's family). Unknown tokens are ignored,
// so logging out twice is not an error.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return db.InTx(ctx, s.db, func(ctx context.Context) error {
		row, err := s.store.lockRefresh(ctx, hashRefresh(token))
		if errors.Is(err, errNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return s.store.revokeFamily(ctx, row.FamilyID)
	})
}

// ChangePassword checks the current password, stores the new one, signs every other
// session out, and returns tokens for a fresh session.
func (s *Service) ChangePassword(ctx context.Context, userID int64, current, next string) (*Tokens, error) {
	f := apperr.Fields{}
	if current == "" {
		f.Add("current_password", "field.required")
	}
	validatePassword(f, "new_password", next)
	if err := f.Err(); err != nil {
		return nil, err
	}
	u, err := s.Get(ctx, userID)
	if err != nil {
		return nil, err
	}
	if ok, _ := s.hasher.Check(u.PasswordHash, current); !ok {
		return nil, apperr.New(apperr.Invalid, "error.invalid").WithField("current_password", "auth.err.wrong_password")
	}
	hash, err := s.hasher.Hash(next)
	if err != nil {
		return nil, err
	}
	var t *Tokens
	err = db.InTx(ctx, s.db, func(ctx context.Context) error {
		if err := s.store.setPassword(ctx, userID, hash); err != nil {
			return err
		}
		if err := s.store.revokeUser(ctx, userID); err != nil {
			return err
		}
		t, err = s.issue(ctx, u, uuid.New())
		return err
	})
	return t, err
}

// ProfileChange is a partial update of one's own account; nil fields are unchanged.
type ProfileChange struct {
	DisplayName *string `json:"display_name"`
	Locale      *string `json:"locale"`
}

// UpdateProfile changes the display name and/or saved language.
func (s *Service) UpdateProfile(ctx context.Context, userID int64, ch ProfileChange) (*User, error) {
	f := apperr.Fields{}
	cols := map[string]any{}
	if ch.DisplayName != nil {
		a := NewAccount{DisplayName: *ch.DisplayName}
		a.Normalize()
		if n := len([]rune(a.DisplayName)); n < 2 || n > 40 {
			f.Add("display_name", "field.name_length")
		}
		cols["display_name"] = a.DisplayName
	}
	if ch.Locale != nil {
		a := NewAccount{Locale: *ch.Locale}
		a.Normalize()
		if a.Locale != "" && !isLocale(a.Locale) {
			f.Add("locale", "field.locale_unknown")
		}
		cols["locale"] = a.Locale
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if len(cols) > 0 {
		if err := s.store.updateProfile(ctx, userID, cols); err != nil {
			return nil, fmt.Errorf("update profile: %w", err)
		}
	}
	return s.Get(ctx, userID)
}

// Get returns the account with id, or NotFound.
func (s *Service) Get(ctx context.Context, id int64) (*User, error) {
	u, err := s.store.userByID(ctx, id)
	if errors.Is(err, errNotFound) {
		return nil, apperr.Wrap(apperr.NotFound, "error.not_found", err)
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// CountUsers is used to decide whether a fresh database needs the demo community.
func (s *Service) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	err := db.Conn(ctx, s.db).Model(&User{}).Count(&n).Error
	return n, err
}

// UserByEmail finds an account by e-mail (any case), or NotFound.
func (s *Service) UserByEmail(ctx context.Context, email string) (*User, error) {
	u, err := s.store.userByEmail(ctx, email)
	if errors.Is(err, errNotFound) {
		return nil, apperr.Wrap(apperr.NotFound, "error.not_found", err)
	}
	return u, err
}

// EraseAccount removes an account's personal data inside the caller's transaction:
// the e-mail, name and handle become placeholders, the password can no longer match,
// and every session is revoked. The row stays so the member's posts remain readable
// as written by a "former member".
func (s *Service) EraseAccount(ctx context.Context, id int64) error {
	conn := db.Conn(ctx, s.db)
	if err := conn.Exec(
		`UPDATE users SET email = 'erased-' || id || '@erased.invalid', display_name = 'Former member',
		        handle = 'former' || id, password_hash = '!', locale = '', updated_at = now() WHERE id = ?`, id).Error; err != nil {
		return err
	}
	return s.store.revokeUser(ctx, id)
}
