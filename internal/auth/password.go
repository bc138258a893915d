package auth

import (
	"errors"

	"golang.org/x/crypto/bcrypt"
)

// Hasher hashes passwords with bcrypt. Cost 12 in production; tests lower it so that
// hundreds of accounts can be made quickly.
type Hasher struct{ Cost int }

// Hash returns the bcrypt hash of pw.
func (h Hasher) Hash(pw string) (string, error) {
	cost := h.Cost
	if cost == 0 {
		cost = 12
	}
	b, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	return string(b), err
}

// Check reports whether pw matches hash.
func (h Hasher) Check(hash, pw string) (bool, error) {
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw))
	if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
		return false, nil
	}
	return err == nil, err
}
