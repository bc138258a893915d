package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hearth-community/hearth/internal/auth"
	"github.com/hearth-community/hearth/internal/testenv"
)

// sessionKey is the key the test application signs access tokens with.
var sessionKey = auth.DeriveKey([]byte(testenv.Secret), "hearth access token v1")

func claims(sub string, mut func(m jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	m := jwt.MapClaims{"sub": sub, "role": "member", "name": "X", "iss": "hearth",
		"aud": []string{"hearth-session"}, "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
	if mut != nil {
		mut(m)
	}
	return m
}

func sign(t *testing.T, method jwt.SigningMethod, key any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAccessTokenVerification(t *testing.T) {
	t.Parallel()
	e := testenv.NewApp(t)
	reg := register(t, e, "tok@example.com")
	sub := strconv.FormatInt(int64(reg["user"].(map[string]any)["id"].(float64)), 10)

	good := sign(t, jwt.SigningMethodHS256, sessionKey, claims(sub, nil))
	if r := e.API(t, http.MethodGet, "/api/v1/me", nil, good); r.Status != 200 {
		t.Fatalf("well-formed token refused: %d %s", r.Status, r.Body)
	}

	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims(sub, nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	hand := func(header string) string { // a hand-made token with the right claims and a forged header
		parts := strings.Split(good, ".")
		return base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + parts[1] + "." + parts[2]
	}
	bad := map[string]string{
		"expired":             sign(t, jwt.SigningMethodHS256, sessionKey, claims(sub, func(m jwt.MapClaims) { m["exp"] = time.Now().Add(-time.Minute).Unix() })),
		"no exp":              sign(t, jwt.SigningMethodHS256, sessionKey, claims(sub, func(m jwt.MapClaims) { delete(m, "exp") })),
		"iat in the future":   sign(t, jwt.SigningMethodHS256, sessionKey, claims(sub, func(m jwt.MapClaims) { m["iat"] = time.Now().Add(time.Hour).Unix() })),
		"no iat":              sign(t, jwt.SigningMethodHS256, sessionKey, claims(sub, func(m jwt.MapClaims) { delete(m, "iat") })),
		"other key":           sign(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-1234"), claims(sub, nil)),
		"raw site secret":     sign(t, jwt.SigningMethodHS256, []byte(testenv.Secret), claims(sub, nil)),
		"missing aud":         sign(t, jwt.SigningMethodHS256, sessionKey, claims(sub, func(m jwt.MapClaims) { delete(m, "aud") })),
		"other aud":           sign(t, jwt.SigningMethodHS256, sessionKey, claims(sub, func(m jwt.MapClaims) { m["aud"] = "hearth-partner" })),
		"missing iss":         sign(t, jwt.SigningMethodHS256, sessionKey, claims(sub, func(m jwt.MapClaims) { delete(m, "iss") })),
		"other iss":           sign(t, jwt.SigningMethodHS256, sessionKey, claims(sub, func(m jwt.MapClaims) { m["iss"] = "evil" })),
		"bad role":            sign(t, jwt.SigningMethodHS256, sessionKey, claims(sub, func(m jwt.MapClaims) { m["role"] = "root" })),
		"HS512 same key":      sign(t, jwt.SigningMethodHS512, sessionKey, claims(sub, nil)),
		"RS256":               sign(t, jwt.SigningMethodRS256, rsaKey, claims(sub, nil)),
		"ES256":               sign(t, jwt.SigningMethodES256, ecKey, claims(sub, nil)),
		"alg none":            none,
		"alg none, kept sig":  hand(`{"alg":"none","typ":"JWT"}`),
		"alg RS256 header":    hand(`{"alg":"RS256","typ":"JWT"}`),
		"garbage":             "not.a.token",
		"signature truncated": good[:len(good)-4],
	}
	for name, tok := range bad {
		r := e.API(t, http.MethodGet, "/api/v1/me", nil, tok)
		if r.Status != http.StatusUnauthorized || r.ErrorCode(t) != "unauthenticated" {
			t.Errorf("%s: status %d (%s), want 401", name, r.Status, r.Body)
		}
	}
	// a Bearer token on a public endpoint is still checked, never silently ignored
	if r := e.API(t, http.MethodGet, "/api/v1/categories", nil, bad["other key"]); r.Status != 401 {
		t.Errorf("bad token on a public route: %d", r.Status)
	}
	if r := e.API(t, http.MethodGet, "/api/v1/me", nil, ""); r.Status != 401 {
		t.Errorf("no token: %d", r.Status)
	}
}
