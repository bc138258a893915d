package crm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/db"
)

// segFrom is the FROM … WHERE of a compiled rule over crm_segment_filters p, the narrow
// copy of the rule fields that triggers keep for every profile that is not erased
// (migration 00042): erased members have no row there, so they are in no segment. It
// joins the accounts only when the rule reads one (role, joined_days).
func segFrom(c compiled, users bool) string {
	from := "FROM crm_segment_filters p"
	if users || c.users {
		from += " JOIN users u ON u.id = p.member_id"
	}
	return from + " WHERE " + c.where
}

// segQuery runs fn in a transaction (ctx's, if it carries one) planned with the bound
// values every time. pgx prepares and caches each statement per connection, and after
// five runs PostgreSQL may keep a generic plan costed for no value in particular; a
// rule's statement is the same text for every interest and threshold, and its generic
// plan guesses 0.5 % for any interest — on 1M profiles it chose a BitmapAnd of
// GIN(interests) and a heap visit per candidate where the custom plan is an index-only
// scan of a fraction of the work.
func segQuery(ctx context.Context, gdb *gorm.DB, fn func(conn *gorm.DB) error) error {
	return db.InTx(ctx, gdb, func(ctx context.Context) error {
		conn := db.Conn(ctx, gdb)
		if err := conn.Exec(`SET LOCAL plan_cache_mode = force_custom_plan`).Error; err != nil {
			return err
		}
		return fn(conn)
	})
}

// segCount counts a rule's members. Outside a transaction (the live count of the rule
// builder, saved segments' counts) it is one round trip on an unnamed statement, which
// PostgreSQL plans with the values every time; in one, segQuery's SET LOCAL does it.
func segCount(ctx context.Context, gdb *gorm.DB, c compiled) (int64, error) {
	query := "SELECT count(*) " + segFrom(c, false)
	var n int64
	var err error
	if db.InTransaction(ctx) {
		err = segQuery(ctx, gdb, func(conn *gorm.DB) error { return conn.Raw(query, c.args...).Scan(&n).Error })
	} else {
		err = db.Pgx(ctx, gdb, func(conn *pgx.Conn) error {
			return conn.QueryRow(ctx, dollarParams(query), append([]any{pgx.QueryExecModeExec}, c.args...)...).Scan(&n)
		})
	}
	if err != nil {
		return 0, fmt.Errorf("count segment: %w", err)
	}
	return n, nil
}

// dollarParams numbers the ? placeholders of compiled SQL ($1, $2 …) for pgx; the
// compiler writes no ? other than placeholders (values are never in the text).
func dollarParams(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func segPlan(ctx context.Context, gdb *gorm.DB, c compiled) (string, error) {
	var lines []string
	err := segQuery(ctx, gdb, func(conn *gorm.DB) error {
		return conn.Raw("EXPLAIN SELECT count(*) "+segFrom(c, false), c.args...).Scan(&lines).Error
	})
	if err != nil {
		return "", fmt.Errorf("explain segment: %w", err)
	}
	return strings.Join(lines, "\n"), nil
}

const segMemberCols = `SELECT p.member_id AS id, u.display_name AS name, u.handle, p.stage, p.churn_risk, p.clv,
       p.consent_email, p.consent_inapp `

// segSample lists the most valuable members of a rule (the crm_profiles_clv order).
func segSample(ctx context.Context, gdb *gorm.DB, c compiled, limit int) ([]SegmentMember, error) {
	out := []SegmentMember{}
	err := segQuery(ctx, gdb, func(conn *gorm.DB) error {
		return conn.Raw(segMemberCols+segFrom(c, true)+" ORDER BY p.clv DESC, p.member_id LIMIT ?",
			append(append([]any{}, c.args...), limit)...).Scan(&out).Error
	})
	if err != nil {
		return nil, fmt.Errorf("sample segment: %w", err)
	}
	return out, nil
}

// segMembers is keyset iteration in member id order (the profiles' primary key).
func segMembers(ctx context.Context, gdb *gorm.DB, c compiled, after int64, limit int) ([]SegmentMember, error) {
	out := []SegmentMember{}
	args := append(append([]any{}, c.args...), after, limit)
	err := segQuery(ctx, gdb, func(conn *gorm.DB) error {
		return conn.Raw(segMemberCols+segFrom(c, true)+" AND p.member_id > ? ORDER BY p.member_id LIMIT ?", args...).
			Scan(&out).Error
	})
	if err != nil {
		return nil, fmt.Errorf("segment members: %w", err)
	}
	return out, nil
}

// segRow is a crm_segments row; the rule is decoded after the scan.
type segRow struct {
	ID          int64
	Name        string
	Description string
	Rule        []byte
	CreatedBy   *int64
	MemberCount int64
	CountedAt   *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (r segRow) segment() (Segment, error) {
	s := Segment{ID: r.ID, Name: r.Name, Description: r.Description, CreatedBy: r.CreatedBy, MemberCount: r.MemberCount,
		CountedAt: r.CountedAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if err := json.Unmarshal(r.Rule, &s.Rule); err != nil {
		return s, fmt.Errorf("segment %d rule: %w", r.ID, err)
	}
	return s, nil
}

const segCols = `id, name, description, rule, created_by, member_count, counted_at, created_at, updated_at`

func segInsert(ctx context.Context, gdb *gorm.DB, by int64, in SegmentInput, count int64, now time.Time) (*Segment, error) {
	rule, err := json.Marshal(in.Rule)
	if err != nil {
		return nil, err
	}
	var row segRow
	err = db.Conn(ctx, gdb).Raw(`INSERT INTO crm_segments (name, description, rule, created_by, member_count, counted_at, created_at, updated_at)
	                             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+segCols,
		in.Name, in.Description, string(rule), by, count, now, now, now).Scan(&row).Error
	if err != nil {
		return nil, err
	}
	s, err := row.segment()
	return &s, err
}

// ErrSegmentNotFound is returned by the segment store for an unknown id.
var ErrSegmentNotFound = errors.New("crm: segment not found")

func segUpdate(ctx context.Context, gdb *gorm.DB, id int64, in SegmentInput, count int64, now time.Time) (*Segment, error) {
	rule, err := json.Marshal(in.Rule)
	if err != nil {
		return nil, err
	}
	var rows []segRow
	err = db.Conn(ctx, gdb).Raw(`UPDATE crm_segments SET name = ?, description = ?, rule = ?, member_count = ?, counted_at = ?, updated_at = ?
	                              WHERE id = ? RETURNING `+segCols,
		in.Name, in.Description, string(rule), count, now, now, id).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, ErrSegmentNotFound
	}
	s, err := rows[0].segment()
	return &s, err
}

func segDelete(ctx context.Context, gdb *gorm.DB, id int64) (int64, error) {
	res := db.Conn(ctx, gdb).Exec(`DELETE FROM crm_segments WHERE id = ?`, id)
	return res.RowsAffected, res.Error
}

func segGet(ctx context.Context, gdb *gorm.DB, id int64) (*Segment, error) {
	var rows []segRow
	if err := db.Conn(ctx, gdb).Raw(`SELECT `+segCols+` FROM crm_segments WHERE id = ?`, id).Scan(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, ErrSegmentNotFound
	}
	s, err := rows[0].segment()
	return &s, err
}

func segList(ctx context.Context, gdb *gorm.DB) ([]Segment, error) {
	var rows []segRow
	if err := db.Conn(ctx, gdb).Raw(`SELECT ` + segCols + ` FROM crm_segments ORDER BY lower(name), id`).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Segment, 0, len(rows))
	for _, r := range rows {
		s, err := r.segment()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func segSetCount(ctx context.Context, gdb *gorm.DB, id, n int64, at time.Time) error {
	return db.Conn(ctx, gdb).Exec(`UPDATE crm_segments SET member_count = ?, counted_at = ? WHERE id = ?`, n, at, id).Error
}
