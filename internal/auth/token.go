package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/hkdf"
)

// Token audiences: a token minted for one purpose is refused for every other.
const (
	Issuer          = "hearth"
	AudienceSession = "hearth-session"
)

// Claims are the access token's claims.
type Claims struct {
	Role      Role   `json:"role"`
	PartnerID int64  `json:"pid,omitempty"`
	Name      string `json:"name"`
	Locale    string `json:"loc,omitempty"`
	jwt.RegisteredClaims
}

// Tokens is what a log-in or refresh returns.
type Tokens struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"`
	ExpiresIn    int       `json:"expires_in"`
	ExpiresAt    time.Time `json:"expires_at"`
	RefreshToken string    `json:"refresh_token"`
}

// Signer mints and checks access tokens: HS256 only, with a key derived from
// HEARTH_SECRET for this purpose alone.
type Signer struct {
	key    []byte
	ttl    time.Duration
	now    func() time.Time
	leeway time.Duration
}

// DeriveKey derives a 32-byte key for purpose from the site secret (HKDF-SHA256), so
// that access tokens, e-mail links and partner tokens never share a key.
func DeriveKey(secret []byte, purpose string) []byte {
	key := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, nil, []byte(purpose)), key); err != nil {
		panic(err) // only fails when asked for more than 255*32 bytes
	}
	return key
}

// NewSigner returns a signer for access tokens living ttl.
func NewSigner(secret []byte, ttl time.Duration) *Signer {
	return &Signer{key: DeriveKey(secret, "hearth access token v1"), ttl: ttl, now: time.Now, leeway: 5 * time.Second}
}

// Issue mints an access token for u.
func (s *Signer) Issue(u *User) (string, time.Time, error) {
	now := s.now()
	exp := now.Add(s.ttl)
	c := Claims{
		Role: u.Role, Name: u.DisplayName, Locale: u.Locale,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: Issuer, Subject: strconv.FormatInt(u.ID, 10), Audience: jwt.ClaimStrings{AudienceSession},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp), NotBefore: jwt.NewNumericDate(now),
		},
	}
	if u.PartnerID != nil {
		c.PartnerID = *u.PartnerID
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.key)
	return tok, exp, err
}

// ErrBadToken is returned for any token that fails verification.
var ErrBadToken = errors.New("auth: invalid access token")

// Parse verifies a token: the algorithm is pinned to HS256 (so "none" and RS/HS swaps
// fail), and exp, iat, iss and aud are all required and checked.
func (s *Signer) Parse(raw string) (*Claims, int64, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		if _, ok := t.Method.(*jwt.SigningMethodHMAC); !ok {
			return nil, fmt.Errorf("unexpected signing method %v", t.Header["alg"])
		}
		return s.key, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithIssuer(Issuer),
		jwt.WithAudience(AudienceSession), jwt.WithLeeway(s.leeway), jwt.WithTimeFunc(s.now))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	if c.IssuedAt == nil {
		return nil, 0, fmt.Errorf("%w: no iat", ErrBadToken)
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || id <= 0 || !c.Role.Valid() {
		return nil, 0, fmt.Errorf("%w: bad subject or role", ErrBadToken)
	}
	return &c, id, nil
}

// newRefreshToken returns an opaque random token and the hash stored for it.
func newRefreshToken() (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashRefresh(token), nil
}

// hashRefresh is the stored form of a refresh token: a database leak yields nothing usable.
func hashRefresh(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
