package crm_test

import (
	"context"
	"testing"

	"github.com/lib/pq"
	"gorm.io/gorm"

	"github.com/hearth-community/hearth/crm"
	"github.com/hearth-community/hearth/internal/db"
	"github.com/hearth-community/hearth/internal/testenv"
)

// BenchmarkAppendWebhooks measures what webhooks add to crm.Append, the hot path of
// every write, each case on a fresh database: with no endpoint; with the cache
// bypassed by one indexed lookup of the active endpoints per event ("query", the
// alternative to the cache); with endpoints for other kinds (served from the
// in-process cache, no query); and with one subscribed endpoint (a member lookup and
// one more outbox row). Run:
//
//	go test ./crm/ -run '^$' -bench AppendWebhooks -benchtime 3000x -count 3
func BenchmarkAppendWebhooks(b *testing.B) {
	cases := []struct {
		name       string
		kinds      []crm.Kind
		queryFirst bool
	}{
		{name: "no_endpoints"},
		{name: "query", kinds: []crm.Kind{crm.KindPurchase, crm.KindStageChanged, crm.KindThreadCreated}, queryFirst: true},
		{name: "endpoints_other_kinds", kinds: []crm.Kind{crm.KindPurchase, crm.KindStageChanged, crm.KindThreadCreated}},
		{name: "endpoint_subscribed", kinds: []crm.Kind{crm.KindReplyCreated}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			g := testenv.DB(b)
			m := benchAdmin(b, g)
			svc := crm.NewService(g, crm.DefaultParams, nil)
			for _, k := range c.kinds {
				if _, err := svc.CreateWebhook(ctx, crm.Actor{ID: m, Role: "admin"}, crm.WebhookInput{
					URL: "https://crm.example.com/" + string(k), Secret: hookSecret, Kinds: []string{string(k)}}); err != nil {
					b.Fatal(err)
				}
			}
			ev := crm.Event{MemberID: m, Kind: crm.KindReplyCreated, SubjectType: "post", SubjectID: 1}
			for b.Loop() {
				err := db.InTx(ctx, g, func(ctx context.Context) error {
					if c.queryFirst {
						var ids []int64
						if err := db.Conn(ctx, g).Raw(`SELECT id FROM crm_webhooks WHERE active AND kinds && ?`,
							pq.StringArray{string(ev.Kind), crm.AllKinds}).Scan(&ids).Error; err != nil {
							return err
						}
					}
					return crm.Append(ctx, g, ev)
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchAdmin(b *testing.B, g *gorm.DB) int64 {
	var m int64
	if err := g.Raw(`INSERT INTO users (email, password_hash, display_name, handle, role)
	                 VALUES ('bench@example.com', '!', 'Bench', 'bench', 'admin') RETURNING id`).Scan(&m).Error; err != nil {
		b.Fatal(err)
	}
	return m
}
