package scale

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/lib/pq"
	"gorm.io/gorm"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/auth"
)

// CRM is the size of a generated CRM data set: members, each with a profile, and their
// engagement events (every member's registration among them).
type CRM struct {
	Members int
	Events  int64
}

// CRMOf returns n times the CRM benchmark's data set of 1,000,000 members and
// 20,000,000 events (the CRM issue's figures); n may be fractional (0.001 for tests).
func CRMOf(n float64) CRM {
	return CRM{Members: int(math.Max(1, math.Round(1_000_000*n))), Events: int64(math.Max(1, math.Round(20_000_000*n)))}
}

func (s CRM) validate() error {
	if s.Members < 1 || s.Events < int64(s.Members) {
		return fmt.Errorf("scale: need at least one member and one event per member, their registration (got %+v)", s)
	}
	return nil
}

// The steps GenerateCRM reports, in order.
const (
	StepCRMMembers  = "members"
	StepCRMEvents   = "events"
	StepCRMProfiles = "profiles"
	StepCRMRanks    = "ranks"
	StepCRMAnalyze  = "vacuum and analyze"
)

// Chunk sizes: events per transaction, and members per profile aggregate (about
// 20 events each on average, so both are a few hundred thousand event rows).
const (
	crmEventsPerChunk   = 250_000
	crmMembersPerChunk  = 20_000
	crmJoinSpanDays     = 729 // members join within the span the monthly partitions cover
	crmActivityExponent = 0.9 // Zipf-like: the member of rank r has weight (r+offset)^-0.9
)

// crmKind is one generated kind of event: its share per mille of the events after
// registration, the subject it points at, and whether it carries tags and a category.
type crmKind struct {
	kind     crm.Kind
	perMille int
	subject  string
	tagged   bool
}

// crmKinds is the mix of a brand community: many log-ins and reactions, fewer posts,
// few accepted answers, purchases, ideas and survey answers. Weights come from
// crm.Weights, the one place they are set.
var crmKinds = []crmKind{
	{crm.KindLoggedIn, 305, "user", false},
	{crm.KindReactionGiven, 200, "post", true},
	{crm.KindReactionReceived, 150, "post", true},
	{crm.KindReplyCreated, 120, "post", true},
	{crm.KindThreadCreated, 50, "thread", true},
	{crm.KindPostEdited, 40, "post", true},
	{crm.KindIdeaVoted, 40, "idea", true},
	{crm.KindPurchase, 30, "purchase", false},
	{crm.KindAnswerRated, 25, "post", false},
	{crm.KindAnswerAccepted, 20, "post", true},
	{crm.KindIdeaCreated, 15, "idea", true},
	{crm.KindNPSAnswered, 5, "survey", false},
	{crm.KindRegistered, 0, "user", false}, // every member's first event, not drawn
}

// crmCategories spreads tagged forum events over the demo categories (1 in 20 each):
// mostly questions, then ideas, offers and announcements.
var crmCategories = func() []string {
	var out []string
	for _, c := range []struct {
		slug string
		n    int
	}{{"questions", 11}, {"ideas", 5}, {"offers", 3}, {"announcements", 1}} {
		for range c.n {
			out = append(out, c.slug)
		}
	}
	return out
}()

// GenerateCRM inserts s's members, their events (registration first, then a mix of
// kinds over each member's active period, spread over the monthly partitions of the
// last two years) with the shop purchases behind purchase events, then every member's
// profile computed from the events as Append and RefreshMember would have kept it, and
// the ranks the scheduled refresh sets (rankAll), then vacuums and analyzes. It wants
// a freshly migrated database: it refuses when generated members or any events exist.
// p are the CRM parameters the profiles follow. progress may be nil.
func GenerateCRM(ctx context.Context, gdb *gorm.DB, s CRM, p crm.Params, progress Progress) error {
	if err := s.validate(); err != nil {
		return err
	}
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	g := &crmGenerator{generator: generator{db: gdb, progress: progress}, s: s, p: p}
	if err := g.check(ctx); err != nil {
		return err
	}
	for _, step := range []func(context.Context) error{g.insertMembers, g.insertEvents, g.insertProfiles, g.rank, g.analyze} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

type crmGenerator struct {
	generator
	s CRM
	p crm.Params
}

func (g *crmGenerator) check(ctx context.Context) error {
	var n struct{ Members, Events, Profiles int64 }
	err := g.db.WithContext(ctx).Raw(`SELECT (SELECT count(*) FROM users WHERE email LIKE ?) AS members,
	        (SELECT count(*) FROM (SELECT 1 FROM crm_events LIMIT 1) e) AS events,
	        (SELECT count(*) FROM (SELECT 1 FROM crm_profiles LIMIT 1) p) AS profiles`, "gen-%@"+EmailDomain).Scan(&n).Error
	if err != nil {
		return fmt.Errorf("scale: look for earlier data: %w", err)
	}
	if n.Members+n.Events+n.Profiles > 0 {
		return fmt.Errorf("%w (%d generated members, events: %v, profiles: %v); generate the CRM data set into a fresh database",
			ErrGenerated, n.Members, n.Events > 0, n.Profiles > 0)
	}
	return nil
}

func (g *crmGenerator) insertMembers(ctx context.Context) error {
	hash, err := auth.Hasher{}.Hash(Password)
	if err != nil {
		return err
	}
	total := int64(g.s.Members)
	g.progress(StepCRMMembers, 0, total)
	q := crmMembersSQL()
	for lo := int64(1); lo <= total; lo += rowsPerChunk {
		hi := min(lo+rowsPerChunk-1, total)
		err := g.chunk(ctx, func(tx *gorm.DB) error {
			return tx.Exec(q, map[string]any{
				"lo": lo, "hi": hi, "domain": "@" + EmailDomain, "hash": hash, "span": crmJoinSpanDays * 86400,
				"first": pq.StringArray(firstNames), "last": pq.StringArray(lastNames),
				"zhsur": pq.StringArray(zhSurnames), "zhgiven": pq.StringArray(zhGiven),
				"nfirst": len(firstNames), "nlast": len(lastNames), "nzhsur": len(zhSurnames), "nzhgiven": len(zhGiven),
			}).Error
		})
		if err != nil {
			return fmt.Errorf("scale: insert members %d–%d: %w", lo, hi, err)
		}
		g.progress(StepCRMMembers, hi, total)
	}
	if err := g.db.WithContext(ctx).Raw(`SELECT id FROM users WHERE email LIKE ? ORDER BY id`, "gen-%@"+EmailDomain).
		Scan(&g.members).Error; err != nil {
		return fmt.Errorf("scale: read generated members: %w", err)
	}
	if len(g.members) != g.s.Members {
		return fmt.Errorf("scale: expected %d generated members, found %d", g.s.Members, len(g.members))
	}
	return nil
}

// eventCounts gives every member their registration plus a share of the other events
// by a Zipf-like law over a fixed random ranking (so activity does not follow ids):
// a few members are very active, the median one has a handful of events. The shares
// are rounded cumulatively, so the total is exact.
func eventCounts(members int, events int64) []int32 {
	rank := rand.New(rand.NewPCG(2026, 5)).Perm(members)
	// the offset flattens the very top: 50 at a million members
	offset := math.Max(1, float64(members)/20_000)
	var sum float64
	for r := range members {
		sum += math.Pow(float64(r)+offset, -crmActivityExponent)
	}
	extra := float64(events - int64(members))
	counts := make([]int32, members)
	var cum float64
	var prev int64
	for r := range members {
		cum += math.Pow(float64(r)+offset, -crmActivityExponent)
		c := int64(math.Round(cum / sum * extra))
		if r == members-1 {
			c = events - int64(members)
		}
		counts[rank[r]] = 1 + int32(c-prev)
		prev = c
	}
	return counts
}

// kindArgs are the per-kind arrays the events statement indexes (1-based, as SQL
// arrays are) and the lookup from a draw in 0 … 999 to a kind.
func kindArgs() map[string]any {
	var kinds, subjects []string
	var weights []float64
	var tagged []bool
	var draw []int64
	idx := map[crm.Kind]int{}
	for i, k := range crmKinds {
		idx[k.kind] = i + 1
		kinds, subjects = append(kinds, string(k.kind)), append(subjects, k.subject)
		weights, tagged = append(weights, crm.Weights[k.kind]), append(tagged, k.tagged)
		for range k.perMille {
			draw = append(draw, int64(i+1))
		}
	}
	if len(draw) != 1000 {
		panic(fmt.Sprintf("scale: the CRM kind mix adds up to %d per mille, not 1000", len(draw)))
	}
	return map[string]any{
		"kinds": pq.StringArray(kinds), "subjects": pq.StringArray(subjects), "weights": pq.Float64Array(weights),
		"tagged": pq.BoolArray(tagged), "kmap": pq.Int64Array(draw),
		"reg": idx[crm.KindRegistered], "kpurchase": idx[crm.KindPurchase], "krated": idx[crm.KindAnswerRated],
		"knps": idx[crm.KindNPSAnswered], "purchase": string(crm.KindPurchase),
		"tags": pq.StringArray(tags), "ntags": len(tags), "cats": pq.StringArray(crmCategories),
	}
}

func (g *crmGenerator) insertEvents(ctx context.Context) error {
	counts := eventCounts(g.s.Members, g.s.Events)
	g.progress(StepCRMEvents, 0, g.s.Events)
	q := crmEventsSQL()
	args := kindArgs()
	var done int64
	for lo := 0; lo < len(g.members); {
		hi, n := lo, int64(0)
		for hi < len(g.members) && (hi == lo || n+int64(counts[hi]) <= crmEventsPerChunk) {
			n += int64(counts[hi])
			hi++
		}
		ns := make(pq.Int64Array, hi-lo)
		for i := range ns {
			ns[i] = int64(counts[lo+i])
		}
		a := map[string]any{"ids": g.members[lo:hi], "ns": ns}
		for k, v := range args {
			a[k] = v
		}
		err := g.chunk(ctx, func(tx *gorm.DB) error {
			var events, purchases int64
			if err := tx.Raw(q, a).Row().Scan(&events, &purchases); err != nil {
				return err
			}
			if events != n {
				return fmt.Errorf("inserted %d events, expected %d", events, n)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("scale: insert events of members %d–%d: %w", g.members[lo], g.members[hi-1], err)
		}
		done += n
		g.progress(StepCRMEvents, done, g.s.Events)
		lo = hi
	}
	return nil
}

// insertProfiles computes every member's profile from their events in chunks of
// members (an id range: the generated members are the only ones with events).
func (g *crmGenerator) insertProfiles(ctx context.Context) error {
	total := int64(len(g.members))
	g.progress(StepCRMProfiles, 0, total)
	q := crmProfilesSQL()
	p := g.p
	for lo := 0; lo < len(g.members); lo += crmMembersPerChunk {
		hi := min(lo+crmMembersPerChunk, len(g.members))
		err := g.chunk(ctx, func(tx *gorm.DB) error {
			if err := tx.Exec(`SET LOCAL work_mem = '256MB'`).Error; err != nil {
				return err
			}
			return tx.Exec(q, map[string]any{
				"lo": g.members[lo], "hi": g.members[hi-1], "h": p.HalfLife.Seconds(),
				"stage": string(crm.KindStageChanged), "purchase": string(crm.KindPurchase),
				"accepted": string(crm.KindAnswerAccepted), "rated": string(crm.KindAnswerRated), "nps": string(crm.KindNPSAnswered),
				"dormant": p.DormantDays, "newdays": p.NewMemberDays, "newevents": p.NewMemberEvents,
				"decline": p.DeclineRatio, "growth": p.GrowthRatio, "minbase": p.MinBaseline,
				"margin": p.Margin, "disc": p.DiscountRate, "horizon": p.HorizonYears, "advocate": p.AdvocateAnswers,
			}).Error
		})
		if err != nil {
			return fmt.Errorf("scale: profiles of members %d–%d: %w", g.members[lo], g.members[hi-1], err)
		}
		g.progress(StepCRMProfiles, int64(hi), total)
	}
	return nil
}

// rank sets the figures that compare members with each other, as the scheduled
// refresh does after refreshing every profile.
func (g *crmGenerator) rank(ctx context.Context) error {
	g.progress(StepCRMRanks, 0, 1)
	err := g.chunk(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(`SET LOCAL work_mem = '256MB'`).Error; err != nil {
			return err
		}
		return tx.Exec(crmRankSQL(), map[string]any{"h": g.p.HalfLife.Seconds()}).Error
	})
	if err != nil {
		return fmt.Errorf("scale: ranks: %w", err)
	}
	g.progress(StepCRMRanks, 1, 1)
	return nil
}

func (g *crmGenerator) analyze(ctx context.Context) error {
	tables := []string{"users", "crm_purchases", "crm_events", "crm_profiles"}
	g.progress(StepCRMAnalyze, 0, int64(len(tables)))
	for i, t := range tables {
		start := time.Now()
		if err := g.db.WithContext(ctx).Exec(`VACUUM (ANALYZE) ` + t).Error; err != nil {
			return fmt.Errorf("scale: vacuum analyze %s (%s): %w", t, time.Since(start).Round(time.Millisecond), err)
		}
		g.progress(StepCRMAnalyze, int64(i+1), int64(len(tables)))
	}
	return nil
}

// rfmCaseSQL names every RFM cell with crm.RFMSegment, so the generated segment names
// are the model's.
func rfmCaseSQL() string {
	var b strings.Builder
	b.WriteString("CASE q.r * 100 + q.f * 10 + q.m")
	for r := 1; r <= 5; r++ {
		for f := 1; f <= 5; f++ {
			for m := 1; m <= 5; m++ {
				fmt.Fprintf(&b, " WHEN %d THEN '%s'", r*100+f*10+m, crm.RFMSegment(r, f, m))
			}
		}
	}
	b.WriteString(" END")
	return b.String()
}
