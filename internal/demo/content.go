package demo

import (
	"context"
	"fmt"

	"github.com/hearth-community/hearth/forum"
	"github.com/hearth-community/hearth/internal/auth"
)

// demoThread is one seeded conversation: who asks what, and who answers.
type demoThread struct {
	key, author, category string
	kind                  forum.ThreadKind
	title, body           string
	tags                  []string
	replies               []demoReply
	accept                int // 1-based index into replies of the accepted answer, 0 = none
	likes                 []string
}

type demoReply struct{ author, body string }

var threads = []demoThread{
	{key: "demo-welcome", author: "admin", category: "announcements", kind: forum.KindAnnouncement,
		title: "Welcome to the Hearth community!", tags: []string{"welcome"},
		body:  "This is where you get answers from other customers and from our team, share product ideas, and find offers from us and our partners.\n\n- Ask in **Questions & Answers**\n- Suggest improvements in **Product Ideas**\n- Be kind and helpful ❤️",
		likes: []string{"alice", "bob", "wang"}},
	{key: "demo-pairing", author: "alice", category: "questions", kind: forum.KindQuestion,
		title: "How do I pair the X200 headphones with two phones?", tags: []string{"x200", "bluetooth"},
		body: "I have the **X200** headphones and two phones (Android and iPhone). Can they be connected to both at the same time?",
		replies: []demoReply{
			{"bob", "Yes! Hold the power button for 7 seconds until the light blinks blue, pair the second phone, then turn Bluetooth back on on the first one. Both stay connected."},
			{"moderator", "Bob is right. There is also a step-by-step guide in the manual, page 12. @alice let us know if it works."},
		}, accept: 1, likes: []string{"bob", "wang"}},
	{key: "demo-battery", author: "wang", category: "questions", kind: forum.KindQuestion,
		title: "耳机电池续航突然变短了怎么办？", tags: []string{"x200", "电池"},
		body: "我的 X200 耳机以前能用 30 个小时，最近只能用 10 个小时左右。有人遇到过吗？",
		replies: []demoReply{
			{"li", "我也遇到过，更新固件到 2.1 版本之后就好了。可以在 App 里检查更新。"},
		}},
	{key: "demo-idea-eq", author: "bob", category: "ideas", kind: forum.KindDiscussion,
		title: "Idea: a custom equalizer in the companion app", tags: []string{"app", "idea"},
		body: "It would be great to save our own EQ presets in the app, like *Podcast* and *Gym*.",
		replies: []demoReply{
			{"li", "+1，我也想要自定义均衡器。"},
			{"marketer", "Thanks Bob, great idea! We've shared it with the product team."},
		}, likes: []string{"alice", "li"}},
	{key: "demo-offer", author: "partner", category: "offers", kind: forum.KindDiscussion,
		title: "Northwind Outfitters: 15% off travel cases for community members", tags: []string{"offer"},
		body: "Members of the Hearth community get **15% off** our hard-shell travel cases this month."},
	{key: "demo-unanswered", author: "li", category: "questions", kind: forum.KindQuestion,
		title: "Does the X200 support multipoint on Windows laptops?", tags: []string{"x200", "windows"},
		body: "I'd like to use it with my laptop and my phone. Any experience?"},
}

// SeedContent posts the demo conversations (after Seed made the accounts). Every
// write carries an idempotency key, so seeding twice posts nothing new.
func SeedContent(ctx context.Context, as *auth.Service, fs *forum.Service) error {
	actors := map[string]forum.Actor{}
	for _, l := range Logins {
		u, err := as.UserByEmail(ctx, l.Email)
		if err != nil {
			return fmt.Errorf("demo user %s: %w", l.Email, err)
		}
		name := l.Email[:len(l.Email)-len("@demo.hearth.local")]
		actors[name] = forum.Actor{ID: u.ID, Role: string(u.Role)}
	}
	cats, err := fs.VisibleCategories(ctx, "admin")
	if err != nil {
		return err
	}
	catID := map[string]int64{}
	for _, c := range cats {
		catID[c.Slug] = c.ID
	}
	for _, d := range threads {
		t, _, err := fs.CreateThread(ctx, actors[d.author], forum.NewThread{CategoryID: catID[d.category], Kind: d.kind,
			Title: d.title, Body: d.body, Tags: d.tags}, d.key)
		if err != nil {
			return fmt.Errorf("demo thread %s: %w", d.key, err)
		}
		var ids []int64
		for i, r := range d.replies {
			p, _, err := fs.Reply(ctx, actors[r.author], t.ID, forum.NewReply{Body: r.body}, fmt.Sprintf("%s-r%d", d.key, i))
			if err != nil {
				return fmt.Errorf("demo reply %s/%d: %w", d.key, i, err)
			}
			ids = append(ids, p.ID)
		}
		if d.accept > 0 {
			if _, err := fs.Accept(ctx, actors[d.author], t.ID, ids[d.accept-1]); err != nil {
				return fmt.Errorf("demo accept %s: %w", d.key, err)
			}
		}
		view, err := fs.Thread(ctx, actors["admin"], t.ID, 1)
		if err != nil {
			return err
		}
		for _, who := range d.likes {
			if _, err := fs.React(ctx, actors[who], view.FirstPost.ID, "like", true); err != nil {
				return fmt.Errorf("demo like %s: %w", d.key, err)
			}
		}
	}
	return nil
}
