package crm

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/hearth-community/hearth/internal/apperr"
)

// Segment is a saved, named rule. MemberCount is the count as of CountedAt (kept for
// lists); Get and the segment page count live.
type Segment struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Rule        Rule       `json:"rule"`
	CreatedBy   *int64     `json:"created_by"`
	MemberCount int64      `json:"member_count"`
	CountedAt   *time.Time `json:"counted_at"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// SegmentInput is what a marketer saves.
type SegmentInput struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Rule        Rule   `json:"rule"`
}

// SegmentMember is one member of a segment, as lists and campaigns need them.
type SegmentMember struct {
	ID           int64   `json:"id"`
	Name         string  `json:"name"`
	Handle       string  `json:"handle"`
	Stage        Stage   `json:"stage"`
	ChurnRisk    int     `json:"churn_risk"`
	CLV          float64 `json:"clv"`
	ConsentEmail bool    `json:"consent_email"`
	ConsentInapp bool    `json:"consent_inapp"`
}

// SegmentPreview is the live count of a rule and a sample of its most valuable members.
type SegmentPreview struct {
	Count  int64           `json:"count"`
	Sample []SegmentMember `json:"sample"`
}

// SampleSize is how many members a preview shows.
const SampleSize = 20

// Segments holds the segment use cases. Staff-facing methods take the Actor and allow
// marketers and admins; Members and Count are the contract other capabilities
// (campaigns, partner insights) build on and check nothing: their callers decide who
// may reach a segment.
type Segments struct {
	db       *gorm.DB
	halfLife time.Duration
	now      func() time.Time
}

// Segments returns the segment use cases over the service's database and parameters.
func (s *Service) Segments() *Segments {
	return &Segments{db: s.db, halfLife: s.params.HalfLife, now: s.now}
}

func staffOnly(a Actor) error {
	if a.ID == 0 {
		return apperr.New(apperr.Unauthenticated, "error.unauthenticated")
	}
	if !a.ReadsCRM() {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	return nil
}

// Validate checks a rule against the whitelist without running it; the error carries
// one field message per bad condition, keyed by its path ("rule.all[2].op").
func (g *Segments) Validate(r Rule) error {
	_, err := compileRule(r, g.now(), g.halfLife)
	return err
}

// Preview counts a rule's members live and returns a sample of the most valuable.
func (g *Segments) Preview(ctx context.Context, a Actor, r Rule) (*SegmentPreview, error) {
	if err := staffOnly(a); err != nil {
		return nil, err
	}
	c, err := compileRule(r, g.now(), g.halfLife)
	if err != nil {
		return nil, err
	}
	return g.preview(ctx, c)
}

// CountRule counts a rule's members live, without a sample (the builder's live count).
func (g *Segments) CountRule(ctx context.Context, a Actor, r Rule) (int64, error) {
	if err := staffOnly(a); err != nil {
		return 0, err
	}
	c, err := compileRule(r, g.now(), g.halfLife)
	if err != nil {
		return 0, err
	}
	return segCount(ctx, g.db, c)
}

// Plan returns PostgreSQL's plan for counting a rule's members (EXPLAIN), so that
// benchmarks and tests can check which indexes a rule uses. It runs in ctx's
// transaction when there is one (where a caller may have adjusted planner settings).
func (g *Segments) Plan(ctx context.Context, r Rule) (string, error) {
	c, err := compileRule(r, g.now(), g.halfLife)
	if err != nil {
		return "", err
	}
	return segPlan(ctx, g.db, c)
}

func (g *Segments) preview(ctx context.Context, c compiled) (*SegmentPreview, error) {
	n, err := segCount(ctx, g.db, c)
	if err != nil {
		return nil, err
	}
	sample, err := segSample(ctx, g.db, c, SampleSize)
	if err != nil {
		return nil, err
	}
	return &SegmentPreview{Count: n, Sample: sample}, nil
}

func (in *SegmentInput) validate(g *Segments) (compiled, error) {
	in.Name = strings.TrimSpace(in.Name)
	in.Description = strings.TrimSpace(in.Description)
	c, err := compileRule(in.Rule, g.now(), g.halfLife)
	fields := apperr.Fields{}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		for k, v := range ae.Fields {
			fields.Add(k, v)
		}
	} else if err != nil {
		return c, err
	}
	switch n := utf8.RuneCountInString(in.Name); {
	case n == 0:
		fields.Add("name", "field.required")
	case n > 80:
		fields.Add("name", "field.too_long")
	}
	if utf8.RuneCountInString(in.Description) > 500 {
		fields.Add("description", "field.too_long")
	}
	return c, fields.Err()
}

// Save stores a new segment and counts it.
func (g *Segments) Save(ctx context.Context, a Actor, in SegmentInput) (*Segment, error) {
	if err := staffOnly(a); err != nil {
		return nil, err
	}
	c, err := in.validate(g)
	if err != nil {
		return nil, err
	}
	n, err := segCount(ctx, g.db, c)
	if err != nil {
		return nil, err
	}
	seg, err := segInsert(ctx, g.db, a.ID, in, n, g.now())
	return seg, nameTaken(err)
}

// Update replaces a segment's name, description and rule, and recounts it.
func (g *Segments) Update(ctx context.Context, a Actor, id int64, in SegmentInput) (*Segment, error) {
	if err := staffOnly(a); err != nil {
		return nil, err
	}
	c, err := in.validate(g)
	if err != nil {
		return nil, err
	}
	n, err := segCount(ctx, g.db, c)
	if err != nil {
		return nil, err
	}
	seg, err := segUpdate(ctx, g.db, id, in, n, g.now())
	if errors.Is(err, ErrSegmentNotFound) {
		return nil, apperr.Wrap(apperr.NotFound, "error.not_found", err)
	}
	return seg, nameTaken(err)
}

// nameTaken turns the unique-name violation into a Conflict on the name field (raw
// SQL is not run through GORM's error translation, so the PostgreSQL code is read too).
func nameTaken(err error) error {
	var pg *pgconn.PgError
	if errors.Is(err, gorm.ErrDuplicatedKey) || (errors.As(err, &pg) && pg.Code == "23505") {
		return apperr.Wrap(apperr.Conflict, "crm.seg.err.name_taken", err).WithField("name", "crm.seg.err.name_taken")
	}
	return err
}

// Delete removes a segment.
func (g *Segments) Delete(ctx context.Context, a Actor, id int64) error {
	if err := staffOnly(a); err != nil {
		return err
	}
	n, err := segDelete(ctx, g.db, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return apperr.New(apperr.NotFound, "error.not_found")
	}
	return nil
}

// List returns every saved segment by name, with the counts kept at the last save or
// scheduled recount.
func (g *Segments) List(ctx context.Context, a Actor) ([]Segment, error) {
	if err := staffOnly(a); err != nil {
		return nil, err
	}
	return segList(ctx, g.db)
}

// Get returns a segment with its live count (which also refreshes the kept one).
func (g *Segments) Get(ctx context.Context, a Actor, id int64) (*Segment, error) {
	if err := staffOnly(a); err != nil {
		return nil, err
	}
	seg, err := g.load(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := compileRule(seg.Rule, g.now(), g.halfLife)
	if err != nil {
		return nil, err
	}
	if seg.MemberCount, err = segCount(ctx, g.db, c); err != nil {
		return nil, err
	}
	now := g.now()
	seg.CountedAt = &now
	return seg, segSetCount(ctx, g.db, id, seg.MemberCount, now)
}

// GetPreview is Get plus the segment's sample, for its page.
func (g *Segments) GetPreview(ctx context.Context, a Actor, id int64) (*Segment, *SegmentPreview, error) {
	seg, err := g.Get(ctx, a, id)
	if err != nil {
		return nil, nil, err
	}
	c, _ := compileRule(seg.Rule, g.now(), g.halfLife)
	sample, err := segSample(ctx, g.db, c, SampleSize)
	if err != nil {
		return nil, nil, err
	}
	return seg, &SegmentPreview{Count: seg.MemberCount, Sample: sample}, nil
}

func (g *Segments) load(ctx context.Context, id int64) (*Segment, error) {
	seg, err := segGet(ctx, g.db, id)
	if errors.Is(err, ErrSegmentNotFound) {
		return nil, apperr.Wrap(apperr.NotFound, "error.not_found", err)
	}
	return seg, err
}

// Members is the contract campaigns and partner insights reuse: the segment's
// members with ids above after, in id order, at most limit (1 … 10,000) of them.
// Iterate by passing the last id returned until fewer than limit come back. The rule
// is evaluated at each call, so a long iteration sees members join and leave; callers
// that need a fixed audience (a campaign send) snapshot the ids as they go. Erased
// members are never returned.
func (g *Segments) Members(ctx context.Context, segmentID, after int64, limit int) ([]SegmentMember, error) {
	seg, err := g.load(ctx, segmentID)
	if err != nil {
		return nil, err
	}
	c, err := compileRule(seg.Rule, g.now(), g.halfLife)
	if err != nil {
		return nil, err
	}
	return segMembers(ctx, g.db, c, after, min(max(limit, 1), 10000))
}

// Count is the live number of members in a saved segment.
func (g *Segments) Count(ctx context.Context, segmentID int64) (int64, error) {
	seg, err := g.load(ctx, segmentID)
	if err != nil {
		return 0, err
	}
	c, err := compileRule(seg.Rule, g.now(), g.halfLife)
	if err != nil {
		return 0, err
	}
	return segCount(ctx, g.db, c)
}

// Recount refreshes the kept count of every saved segment (after a scheduled refresh
// has moved the scores the rules read).
func (g *Segments) Recount(ctx context.Context) error {
	list, err := segList(ctx, g.db)
	if err != nil {
		return err
	}
	for _, seg := range list {
		c, err := compileRule(seg.Rule, g.now(), g.halfLife)
		if err != nil {
			continue // a rule saved under an older whitelist keeps its last count
		}
		n, err := segCount(ctx, g.db, c)
		if err != nil {
			return err
		}
		if err := segSetCount(ctx, g.db, seg.ID, n, g.now()); err != nil {
			return err
		}
	}
	return nil
}
