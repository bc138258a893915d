// Package apperr is Hearth's one error vocabulary: a small set of kinds that the web
// layer maps to HTTP statuses, a message that is safe to show users, optional
// field-level messages, and the wrapped cause that only ever reaches the log.
package apperr

import (
	"errors"
	"fmt"
)

// Kind classifies an error for the boundary; it decides the HTTP status.
type Kind int

// The kinds of error a use case can return.
const (
	Internal Kind = iota
	Invalid
	NotFound
	Conflict
	Unauthenticated
	Forbidden
	RateLimited
)

// String is the machine-readable code sent in the API error shape.
func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case NotFound:
		return "not_found"
	case Conflict:
		return "conflict"
	case Unauthenticated:
		return "unauthenticated"
	case Forbidden:
		return "forbidden"
	case RateLimited:
		return "rate_limited"
	default:
		return "internal"
	}
}

// Error is a user-facing failure. MessageID names a translation (see static/i18n);
// Fields maps a form or JSON field to the translation id of its problem.
type Error struct {
	Kind      Kind
	MessageID string
	Fields    map[string]string
	Cause     error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Kind, e.MessageID, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.MessageID)
}

// Unwrap exposes the cause to errors.Is/As.
func (e *Error) Unwrap() error { return e.Cause }

// New returns an error of kind with a translated message id.
func New(kind Kind, messageID string) *Error {
	return &Error{Kind: kind, MessageID: messageID}
}

// Wrap returns an error of kind whose cause is kept for the log only.
func Wrap(kind Kind, messageID string, cause error) *Error {
	return &Error{Kind: kind, MessageID: messageID, Cause: cause}
}

// WithField adds a field-level problem; it returns e for chaining.
func (e *Error) WithField(field, messageID string) *Error {
	if e.Fields == nil {
		e.Fields = map[string]string{}
	}
	e.Fields[field] = messageID
	return e
}

// Fields collects field-level validation problems; Err returns nil when none were added.
type Fields map[string]string

// Add records a problem with field unless one is already recorded.
func (f Fields) Add(field, messageID string) {
	if _, ok := f[field]; !ok {
		f[field] = messageID
	}
}

// Err is an Invalid error carrying the collected fields, or nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, MessageID: "error.invalid", Fields: f}
}

// As returns the *Error in err's chain, or an Internal error wrapping err.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: Internal, MessageID: "error.internal", Cause: err}
}

// Is reports whether err is an *Error of kind.
func Is(err error, kind Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == kind
}
